import CairnCore
import CairnRunner

/// Another flatter encoding of a ``PhaseManifest`` for `JSONDecoder`: one array per changed file,
/// `[path, kind, mode, digest or null, size]`, with the link target appended for symlinks.
///
/// Like ``ColumnarPhaseManifest`` it drops the keys every file repeats, but keeps each file's fields together.
struct RowPhaseManifest: Codable {
    /// One changed file as a JSON array.
    struct Row: Codable {
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
    }

    /// The manifest without its changed files.
    var manifest: PhaseManifest
    var changed: [Row]

    init(_ manifest: PhaseManifest) {
        var rest = manifest
        rest.changes.changed = [:]
        self.manifest = rest
        changed = manifest.changes.changed.sorted { $0.key < $1.key }.map { Row(path: $0.key, record: $0.value) }
    }

    /// The manifest the runner works with.
    func phaseManifest() -> PhaseManifest {
        var files: [String: FileRecord] = [:]
        files.reserveCapacity(changed.count)
        for row in changed { files[row.path] = row.record }
        var result = manifest
        result.changes.changed = files
        return result
    }
}
