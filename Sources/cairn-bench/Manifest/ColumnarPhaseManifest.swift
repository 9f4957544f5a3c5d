import CairnCore
import CairnRunner

/// A flatter encoding of a ``PhaseManifest`` for `JSONDecoder`: the changed files as parallel arrays, one per
/// field, instead of one object per path.
///
/// The nested form spends most of its bytes and decoding time on the five keys every file repeats and on one
/// keyed container per file; here each field is one homogeneous array. The rest of the manifest (phase, key,
/// variables, deleted paths, log) keeps its form, with its changed files left empty.
struct ColumnarPhaseManifest: Codable {
    /// The changed files, one array per field, all in the same order.
    struct Columns: Codable {
        var paths: [String]
        var kinds: [FileRecord.Kind]
        var modes: [UInt32]
        /// Nil for directories and symlinks.
        var digests: [BlobDigest?]
        var sizes: [Int64]
        /// Link targets by path: only symlinks have one, so this is not a column.
        var targets: [String: String]
    }

    /// The manifest without its changed files.
    var manifest: PhaseManifest
    var changed: Columns

    init(_ manifest: PhaseManifest) {
        var rest = manifest
        rest.changes.changed = [:]
        self.manifest = rest
        let paths = manifest.changes.changed.keys.sorted()
        let records = paths.map { manifest.changes.changed[$0]! }
        changed = Columns(
            paths: paths, kinds: records.map(\.kind), modes: records.map(\.mode), digests: records.map(\.digest),
            sizes: records.map(\.size),
            targets: manifest.changes.changed.compactMapValues(\.target)
        )
    }

    /// The manifest the runner works with.
    func phaseManifest() throws -> PhaseManifest {
        let count = changed.paths.count
        guard
            [changed.kinds.count, changed.modes.count, changed.digests.count, changed.sizes.count]
                .allSatisfy({ $0 == count })
        else {
            throw BenchError("the columns of the flat manifest differ in length")
        }
        var files: [String: FileRecord] = [:]
        files.reserveCapacity(count)
        for index in 0..<count {
            let path = changed.paths[index]
            files[path] = FileRecord(
                kind: changed.kinds[index], mode: changed.modes[index], digest: changed.digests[index],
                size: changed.sizes[index], target: changed.targets[path]
            )
        }
        var result = manifest
        result.changes.changed = files
        return result
    }
}
