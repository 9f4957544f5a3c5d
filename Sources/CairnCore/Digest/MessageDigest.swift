import CLibCrypto

/// An incremental message digest computed by OpenSSL's libcrypto (SHA-256, SHA-1 or MD5).
///
/// An instance owns an `EVP_MD_CTX` and is not `Sendable`: one hasher belongs to one upload at a time.
public final class MessageDigest {
    /// The digest algorithms Cairn computes.
    public enum Algorithm: Sendable {
        case sha256, sha1, md5

        var evp: OpaquePointer? {
            switch self {
            case .sha256: EVP_sha256()
            case .sha1: EVP_sha1()
            case .md5: EVP_md5()
            }
        }
    }

    private let context: OpaquePointer

    /// Starts a new digest of the given algorithm.
    public init(_ algorithm: Algorithm) {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, algorithm.evp, nil) == 1 else {
            fatalError("libcrypto could not initialise a digest context")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds bytes to the digest.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    /// Adds the UTF-8 bytes of a string to the digest.
    public func update(_ string: String) {
        var string = string
        string.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Finishes the digest and returns its bytes; the hasher must not be updated afterwards.
    public func finalize() -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &output, &length)
        return Array(output.prefix(Int(length)))
    }

    /// The digest of a complete byte buffer.
    public static func hash(_ algorithm: Algorithm, _ bytes: some Collection<UInt8>) -> [UInt8] {
        let digest = MessageDigest(algorithm)
        let array = Array(bytes)
        array.withUnsafeBytes { digest.update($0) }
        return digest.finalize()
    }

    /// The SHA-256 of a string's UTF-8 bytes, as lowercase hex.
    public static func sha256Hex(_ string: String) -> String {
        hash(.sha256, Array(string.utf8)).hexString
    }
}

/// HMAC-SHA256 through libcrypto's one-shot `HMAC()`.
public enum HMACSHA256 {
    /// The 32-byte authentication code of `message` under `key`.
    public static func authenticate(_ message: some Collection<UInt8>, key: some Collection<UInt8>) -> [UInt8] {
        let key = Array(key)
        let message = Array(message)
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                _ = HMAC(
                    EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                    messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count,
                    &output, &length
                )
            }
        }
        return output
    }

    /// The authentication code of a string's UTF-8 bytes.
    public static func authenticate(_ message: String, key: some Collection<UInt8>) -> [UInt8] {
        authenticate(Array(message.utf8), key: key)
    }
}

/// Cryptographically secure random bytes from libcrypto.
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&output, Int32(count)) == 1 else { fatalError("libcrypto RAND_bytes failed") }
        return output
    }
}
