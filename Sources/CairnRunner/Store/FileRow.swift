import CairnCore

/// One file of a stored manifest as a JSON array, `[path, kind, mode, digest or null, size]`, with the link target
/// appended for symlinks: the form manifests of format 2 store their files in.
///
/// An object per file repeated its five keys and cost `JSONDecoder` a keyed container each; an array per file
/// decodes in a little over a third of the time of that nested form.
struct FileRow: Sendable, Hashable, Codable {
    var path: String
    var record: FileRecord

    init(path: String, record: FileRecord) {
        self.path = path
        self.record = record
    }

    init(from decoder: any Decoder) throws {
        var fields = try decoder.unkeyedContainer()
        path = try fields.decode(String.self)
        let kind = try fields.decode(FileRecord.Kind.self)
        let mode = try fields.decode(UInt32.self)
        let digest = try fields.decodeIfPresent(BlobDigest.self)
        let size = try fields.decode(Int64.self)
        let target = fields.isAtEnd ? nil : try fields.decode(String.self)
        guard fields.isAtEnd else {
            throw DecodingError.dataCorruptedError(in: fields, debugDescription: "a file row has more than 6 fields")
        }
        record = FileRecord(kind: kind, mode: mode, digest: digest, size: size, target: target)
    }

    func encode(to encoder: any Encoder) throws {
        var fields = encoder.unkeyedContainer()
        try fields.encode(path)
        try fields.encode(record.kind)
        try fields.encode(record.mode)
        if let digest = record.digest { try fields.encode(digest) } else { try fields.encodeNil() }
        try fields.encode(record.size)
        if let target = record.target { try fields.encode(target) }
    }

    /// The rows of `files`, sorted by path so equal manifests encode to equal bytes.
    static func rows(_ files: [String: FileRecord]) -> [FileRow] {
        files.sorted { $0.key < $1.key }.map { FileRow(path: $0.key, record: $0.value) }
    }

    /// The files `rows` describe; a path listed twice keeps its last record, as a repeated JSON key would.
    static func files(_ rows: [FileRow]) -> [String: FileRecord] {
        var files: [String: FileRecord] = [:]
        files.reserveCapacity(rows.count)
        for row in rows { files[row.path] = row.record }
        return files
    }
}
