/// The additional checksums S3 clients declare with `x-amz-checksum-*` and `x-amz-sdk-checksum-algorithm`.
public enum ChecksumAlgorithm: String, Sendable, Codable, CaseIterable, Hashable {
    case crc32 = "CRC32"
    case crc32c = "CRC32C"
    case crc64nvme = "CRC64NVME"
    case sha1 = "SHA1"
    case sha256 = "SHA256"

    /// The header that carries the value, e.g. `x-amz-checksum-crc32`.
    public var headerName: String { "x-amz-checksum-\(rawValue.lowercased())" }

    /// The algorithm for a header name such as `x-amz-checksum-crc32c` (any case).
    public init?(headerName: String) {
        let lower = headerName.lowercased()
        guard lower.hasPrefix("x-amz-checksum-") else { return nil }
        self.init(rawValue: String(lower.dropFirst("x-amz-checksum-".count)).uppercased())
    }
}
