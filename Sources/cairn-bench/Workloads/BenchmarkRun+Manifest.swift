import CairnCore
import CairnRunner
import Foundation

extension BenchmarkRun {
    func manifestWorkload(_ files: Int, _ decoder: String) -> String {
        "manifest decode, \(files) files: \(decoder)"
    }
    static let currentFormat = "runner, format 2: one array per file"
    static let nestedFormat = "runner, format 1: an object per file (entries of earlier runners)"

    /// What the runner's manifest format costs to read: in-process, the time `PhaseManifest.decode(from:)`
    /// (Foundation's `JSONDecoder`) takes for a phase manifest of `manifestFileCounts` files (a) in the format the
    /// runner writes, one array per changed file, and (b) in the nested format of earlier runners, which it still
    /// reads so their entries keep hitting. No server is involved.
    func measureManifestDecoding() async throws {
        let repetitions = settings.smoke ? 2 : settings.runs * 5
        for count in settings.manifestFileCounts {
            let manifest = try Self.syntheticManifest(files: count)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys  // as the runner stores it
            let flat = Array(try encoder.encode(manifest))
            let nested = Array(try encoder.encode(NestedPhaseManifest(manifest)))
            let decoders: [(name: String, bytes: Int, decode: () throws -> PhaseManifest)] = [
                (Self.currentFormat, flat.count, { try PhaseManifest.decode(from: flat) }),
                (Self.nestedFormat, nested.count, { try PhaseManifest.decode(from: nested) }),
            ]
            // A first decode by each checks it reads back the same manifest (and warms up).
            for decoder in decoders {
                guard try decoder.decode() == manifest else {
                    throw BenchError("\(decoder.name) decoded a different manifest of \(count) files")
                }
            }
            // The formats take turns, so a slower stretch of a shared machine affects them alike.
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
            let current = report.median(manifestWorkload(count, Self.currentFormat), "cairn", metric)
            let nestedMedian = report.median(manifestWorkload(count, Self.nestedFormat), "cairn", metric)
            report.targets.append(
                TargetCheck(
                    target: "manifest decode, \(count) files: format 2 ≤ 0.75 × format 1",
                    measured: current.flatMap { c in nestedMedian.map { c / $0 } }, required: 0.75, isMinimum: false,
                    detail: "\(current.map(BenchmarkReport.format) ?? "—") ms / "
                        + "\(nestedMedian.map(BenchmarkReport.format) ?? "—") ms, medians; "
                        + "met: one array per file saves a quarter or more of the time"
                )
            )
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
            {"formatVersion":2,"phase":"BUILD","key":"\(digest().hex)","changes":{"changed":[],"deleted":[]},
            "setVariables":{},"unsetVariables":[],"workingDirectory":".",
            "log":{"digest":"\(digest().hex)","size":0},"durationSeconds":0}
            """
        var manifest = try PhaseManifest.decode(from: Array(skeleton.utf8))
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
