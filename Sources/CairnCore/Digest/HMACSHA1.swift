import CLibCrypto

/// HMAC-SHA1 (RFC 2104) through libcrypto's one-shot `HMAC()`: what AWS Signature Version 2 signs with.
///
/// Only legacy SigV2 requests use it, so the one-shot call's per-call MAC lookup is not worth avoiding as
/// ``HMACSHA256`` does.
public enum HMACSHA1 {
    /// The 20-byte authentication code of `message` under `key`.
    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let done = key.withUnsafeBytes { key in
            message.withUnsafeBufferPointer { message in
                HMAC(
                    EVP_sha1(), key.baseAddress, Int32(key.count), message.baseAddress, message.count, &output, &length)
            }
        }
        guard done != nil else { fatalError("libcrypto HMAC-SHA1 failed") }
        return Array(output.prefix(Int(length)))
    }
}
