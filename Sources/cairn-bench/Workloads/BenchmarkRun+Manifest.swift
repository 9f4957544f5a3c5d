import CairnCore
import CairnRunner
import Foundation

extension BenchmarkRun {
    func manifestWorkload(_ files: Int, _ decoder: String) -> String {
        "manifest decode, \(files) files: \(decoder)"
    }
    static let runnerDecoder = "runner's JSONValueDecoder"
    static let foundationDecoder = "JSONDecoder, same JSON"
    static let columnsDecoder = "JSONDecoder, flat: one array per field"
    static let rowsDecoder = "JSONDecoder, flat: one array per file"

    /// Whether the runner's hand-written JSON decoder still pays for itself: in-process, the time to decode a phase
    /// manifest of `manifestFileCounts` files (a) with the runner's decoder, as a restore does, (b) with Foundation's
    /// `JSONDecoder` into the same types, and (c, d) with `JSONDecoder` from two flatter encodings of the same
    /// manifest, each turned back into a ``PhaseManifest``. No server is involved.
    func measureManifestDecoding() async throws {
        let repetitions = settings.smoke ? 2 : settings.runs * 5
        for count in settings.manifestFileCounts {
            let manifest = try Self.syntheticManifest(files: count)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys  // as the runner stores it
            let nested = try encoder.encode(manifest)
            let nestedBytes = Array(nested)
            let columns = try encoder.encode(ColumnarPhaseManifest(manifest))
            let rows = try encoder.encode(RowPhaseManifest(manifest))
            let decoders: [(name: String, bytes: Int, decode: () throws -> PhaseManifest)] = [
                (Self.runnerDecoder, nested.count, { try PhaseManifest.decode(from: nestedBytes) }),
                (Self.foundationDecoder, nested.count, { try JSONDecoder().decode(PhaseManifest.self, from: nested) }),
                (
                    Self.columnsDecoder, columns.count,
                    { try JSONDecoder().decode(ColumnarPhaseManifest.self, from: columns).phaseManifest() }
                ),
                (
                    Self.rowsDecoder, rows.count,
                    { try JSONDecoder().decode(RowPhaseManifest.self, from: rows).phaseManifest() }
                ),
            ]
            // A first decode by each checks it reads back the same manifest (and warms up).
            for decoder in decoders {
                guard try decoder.decode() == manifest else {
                    throw BenchError("\(decoder.name) decoded a different manifest of \(count) files")
                }
            }
            // The decoders take turns, so a slower stretch of a shared machine affects them alike.
            var milliseconds = Array(repeating: [Double](), count: decoders.count)
            let clock = ContinuousClock()
            for _ in 0..<repetitions {
                for (index, decoder) in decoders.enumerated() {
                    let started = clock.now
                    _ = try decoder.decode()
                    milliseconds[index].append((clock.now - started).seconds * 1000)
                }
            }
            let metric = "time per decode"
            for (index, decoder) in decoders.enumerated() {
                record(
                    manifestWorkload(count, decoder.name), "cairn", metric, "ms", milliseconds[index],
                    note: "\(decoder.bytes / 1000) kB of JSON, \(repetitions) decodes"
                )
            }
            let runner = report.median(manifestWorkload(count, Self.runnerDecoder), "cairn", metric)
            for decoder in decoders.dropFirst() {
                let median = report.median(manifestWorkload(count, decoder.name), "cairn", metric)
                report.targets.append(
                    TargetCheck(
                        target: "manifest decode, \(count) files: \(decoder.name) ≤ 1.5 × the runner's decoder",
                        measured: median.flatMap { m in runner.map { m / $0 } }, required: 1.5, isMinimum: false,
                        detail: "\(median.map(BenchmarkReport.format) ?? "—") ms / "
                            + "\(runner.map(BenchmarkReport.format) ?? "—") ms, medians; "
                            + "met: the hand-written decoder no longer pays for itself"
                    )
                )
            }
        }
    }

    /// A manifest shaped like the runner fixture's build phase: `out/`, `files` 10 KiB slices `out/part-NNNN` with
    /// their own digests, a symlink, a deleted path and a few variables.
    static func syntheticManifest(files: Int) throws -> PhaseManifest {
        func digest() -> BlobDigest { BlobDigest(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) }) }
        let width = max(4, String(files - 1).count)
        var changed: [String: FileRecord] = ["out": FileRecord(kind: .directory, mode: 0o755)]
        for index in 0..<files {
            let number = String(index)
            let path = "out/part-" + String(repeating: "0", count: width - number.count) + number
            changed[path] = FileRecord(kind: .file, mode: 0o644, digest: digest(), size: 10_486)
        }
        changed["out/latest"] = FileRecord(kind: .symlink, mode: 0, target: "part-0000")
        // PhaseManifest has no public initializer (the runner builds it internally): start from a decoded skeleton.
        let skeleton = """
            {"formatVersion":1,"phase":"BUILD","key":"\(digest().hex)","changes":{"changed":{},"deleted":[]},
            "setVariables":{},"unsetVariables":[],"workingDirectory":".",
            "log":{"digest":"\(digest().hex)","size":0},"durationSeconds":0}
            """
        var manifest = try JSONDecoder().decode(PhaseManifest.self, from: Data(skeleton.utf8))
        manifest.changes.changed = changed
        manifest.changes.deleted = ["out/stale.tmp"]
        manifest.setVariables = ["OUTPUT_DIR": "\(PhaseManifest.sourceDirectoryToken)/out", "PARTS": String(files)]
        manifest.unsetVariables = ["TMPDIR"]
        manifest.shellVariables = ["i": "\(files)"]
        manifest.unsetShellVariables = []
        manifest.log = BlobSegment(digest: digest(), size: 1_234)
        manifest.durationSeconds = 20.5
        return manifest
    }
}
