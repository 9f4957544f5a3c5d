extension String {
    /// The string of UTF-8 bytes, or nil when they are not valid UTF-8. ASCII, which nearly every key, query and
    /// path is, is copied without `String(validating:)`, whose generic entry point looks up type metadata on every
    /// call (the largest single cost of parsing a presigned URL's query, and visible in a manifest of thousands of
    /// paths).
    public init?(utf8Validating bytes: UnsafeBufferPointer<UInt8>) {
        var ascii = true
        for byte in bytes where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii {
            self.init(decoding: bytes, as: UTF8.self)
        } else {
            guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
            self = text
        }
    }
}
