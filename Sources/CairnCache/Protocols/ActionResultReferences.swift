import CairnCore

/// The CAS digests a Bazel `ActionResult` (REAPI, protobuf) names: output files, output directory trees,
/// stdout and stderr. An action-cache hit is only served when all of them are still stored.
///
/// Only the fields that carry digests are read; anything unreadable yields no references rather than an error,
/// since Bazel's AC values are opaque to the cache.
enum ActionResultReferences {
    static func digests(in bytes: [UInt8]) -> [BlobDigest] {
        var reader = ProtobufReader(bytes[...])
        var found: [BlobDigest] = []
        while let (field, value) = reader.next() {
            guard case .bytes(let message) = value else { continue }
            switch field {
            case 2:  // OutputFile { path = 1; Digest digest = 2; }
                found += nestedDigests(message, fields: [2])
            case 3:  // OutputDirectory { path = 1; Digest tree_digest = 3; Digest root_directory_digest = 5; }
                found += nestedDigests(message, fields: [3])
            case 6, 8:  // stdout_digest, stderr_digest
                if let digest = digest(message) { found.append(digest) }
            default:
                break
            }
        }
        return found
    }

    private static func nestedDigests(_ message: ArraySlice<UInt8>, fields: Set<Int>) -> [BlobDigest] {
        var reader = ProtobufReader(message)
        var found: [BlobDigest] = []
        while let (field, value) = reader.next() {
            if fields.contains(field), case .bytes(let inner) = value, let digest = digest(inner) {
                found.append(digest)
            }
        }
        return found
    }

    /// `Digest { string hash = 1; int64 size_bytes = 2; }`; the empty blob is never stored, so it is left out.
    private static func digest(_ message: ArraySlice<UInt8>) -> BlobDigest? {
        var reader = ProtobufReader(message)
        var hash: String?
        var size: UInt64 = 0
        while let (field, value) = reader.next() {
            switch (field, value) {
            case (1, .bytes(let text)): hash = String(decoding: text, as: UTF8.self)
            case (2, .varint(let number)): size = number
            default: break
            }
        }
        guard let hash, let digest = BlobDigest(hex: hash), size > 0 else { return nil }
        return digest
    }
}

/// Reads protobuf wire format: (field number, value) pairs; stops at the first malformed byte.
struct ProtobufReader {
    enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed
    }

    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    private mutating func varint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.first, shift < 64 {
            bytes = bytes.dropFirst()
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    mutating func next() -> (Int, Value)? {
        guard !bytes.isEmpty, let tag = varint() else { return nil }
        let field = Int(tag >> 3)
        switch tag & 7 {
        case 0:
            guard let value = varint() else { return nil }
            return (field, .varint(value))
        case 1:
            guard bytes.count >= 8 else { return nil }
            bytes = bytes.dropFirst(8)
            return (field, .fixed)
        case 2:
            guard let length = varint(), length <= UInt64(bytes.count) else { return nil }
            let value = bytes.prefix(Int(length))
            bytes = bytes.dropFirst(Int(length))
            return (field, .bytes(value))
        case 5:
            guard bytes.count >= 4 else { return nil }
            bytes = bytes.dropFirst(4)
            return (field, .fixed)
        default:
            return nil
        }
    }
}
