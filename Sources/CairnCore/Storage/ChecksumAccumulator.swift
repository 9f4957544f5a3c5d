/// Computes one additional checksum over streamed bytes and yields S3's base64 form of it.
///
/// SHA-256 is not computed here: every blob's SHA-256 is computed anyway, and its base64 form is the checksum.
final class ChecksumAccumulator {
    private enum State {
        case crc32(CRC32)
        case crc32c(CRC32C)
        case crc64nvme(CRC64NVME)
        case sha1(MessageDigest)
        case reuseSHA256
    }

    let algorithm: ChecksumAlgorithm
    private var state: State

    init(_ algorithm: ChecksumAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .crc32: state = .crc32(CRC32())
        case .crc32c: state = .crc32c(CRC32C())
        case .crc64nvme: state = .crc64nvme(CRC64NVME())
        case .sha1: state = .sha1(MessageDigest(.sha1))
        case .sha256: state = .reuseSHA256
        }
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .crc32(var crc):
            crc.update(bytes)
            state = .crc32(crc)
        case .crc32c(var crc):
            crc.update(bytes)
            state = .crc32c(crc)
        case .crc64nvme(var crc):
            crc.update(bytes)
            state = .crc64nvme(crc)
        case .sha1(let digest):
            digest.update(bytes)
        case .reuseSHA256:
            break
        }
    }

    /// The base64 value; `sha256` is the content digest the caller already has.
    func finalize(sha256: [UInt8]) -> String {
        switch state {
        case .crc32(let crc): crc.base64
        case .crc32c(let crc): crc.base64
        case .crc64nvme(let crc): crc.base64
        case .sha1(let digest): digest.finalize().base64String
        case .reuseSHA256: sha256.base64String
        }
    }
}
