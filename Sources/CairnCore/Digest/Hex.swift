import Foundation

extension Sequence<UInt8> {
    /// The bytes as lowercase hexadecimal.
    public var hexString: String {
        // Through a contiguous buffer: called from other modules this generic code is not specialised, and
        // iterating `self` element by element was a tenth of verifying a presigned request.
        let bytes = withContiguousStorageIfAvailable { hexEncoded($0) }
        return bytes ?? Array(self).withUnsafeBufferPointer { hexEncoded($0) }
    }

    /// The bytes as standard base64.
    public var base64String: String { Data(self).base64EncodedString() }
}

extension Array where Element == UInt8 {
    /// The bytes as lowercase hexadecimal (concrete: called from other modules, the generic version is not
    /// specialised).
    public var hexString: String {
        withUnsafeBufferPointer { hexEncoded($0) }
    }

    /// Decodes lowercase or uppercase hex; nil when the text is not hex of an even length.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }
}

/// Lowercase hex of a byte buffer.
private func hexEncoded(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    String(unsafeUninitializedCapacity: bytes.count * 2) { out in
        for (index, byte) in bytes.enumerated() {
            out[2 * index] = hexDigits[Int(byte >> 4)]
            out[2 * index + 1] = hexDigits[Int(byte & 0x0f)]
        }
        return bytes.count * 2
    }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
