import NIOCore

// JSON text written by hand for the runner API's large bodies, which are mostly lists of thousands of digests:
// Foundation's encoders spend most of such a request's time on them. The escapes are `JSONEncoder`'s defaults, so
// the bytes are the same as it would write.

extension ByteBuffer {
    /// Writes `text` as a JSON string: `"`, `\`, `/` and control characters escaped, everything else as is.
    mutating func writeJSONString(_ text: String) {
        var text = text
        writeInteger(UInt8(ascii: "\""))
        text.withUTF8 { writeJSONStringContent(UnsafeRawBufferPointer($0)) }
        writeInteger(UInt8(ascii: "\""))
    }

    /// Writes `texts` as a JSON array of strings.
    mutating func writeJSONArray(_ texts: some Sequence<String>) {
        writeInteger(UInt8(ascii: "["))
        var first = true
        for text in texts {
            if !first { writeInteger(UInt8(ascii: ",")) }
            first = false
            writeJSONString(text)
        }
        writeInteger(UInt8(ascii: "]"))
    }

    /// Writes `"key":`.
    mutating func writeJSONKey(_ key: some CodingKey) {
        writeJSONString(key.stringValue)
        writeInteger(UInt8(ascii: ":"))
    }

    private mutating func writeJSONStringContent(_ bytes: UnsafeRawBufferPointer) {
        // Runs that need no escape (a digest is one) are copied in one piece.
        var start = 0
        for (offset, byte) in bytes.enumerated() {
            let escape: StaticString
            switch byte {
            case UInt8(ascii: "\""): escape = "\\\""
            case UInt8(ascii: "\\"): escape = "\\\\"
            case UInt8(ascii: "/"): escape = "\\/"
            case 0x08: escape = "\\b"
            case 0x09: escape = "\\t"
            case 0x0A: escape = "\\n"
            case 0x0C: escape = "\\f"
            case 0x0D: escape = "\\r"
            case 0x00..<0x20: escape = ""
            default: continue
            }
            writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
            if escape.utf8CodeUnitCount > 0 {
                writeStaticString(escape)
            } else {
                let hex: StaticString = "0123456789abcdef"
                writeStaticString("\\u00")
                writeInteger(hex.utf8Start[Int(byte >> 4)])
                writeInteger(hex.utf8Start[Int(byte & 0x0F)])
            }
            start = offset + 1
        }
        writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<bytes.count]))
    }
}
