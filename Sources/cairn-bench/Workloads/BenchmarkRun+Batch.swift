import Foundation

extension BenchmarkRun {
    static let batchSingleWorkload = "batch: one cold build alone (build phase `sleep 5`)"
    static let batchColdWorkload = "batch: 8 independent cold builds (`sleep 5` each), `cairn build --batch -j 4`"
    static let batchWarmWorkload = "batch: the same 8 builds warm (every phase restored)"
    static let batchMatrixWorkload = "batch: matrix of 2 buildspecs × 3 values, identical install phases"

    /// `cairn build --batch` against the embedded store: one build alone, then 8 independent builds of the same
    /// shape at `-j 4` (ideally two rounds of one build), the same batch warm, and a matrix whose install phases
    /// share keys, counting the installs that ran.
    func measureBatch() async throws {
        let sleep = settings.smoke ? 1 : 5
        var single: [Double] = []
        var cold: [Double] = []
        var warm: [Double] = []
        var installs: [Double] = []
        for run in 0..<settings.runs {
            let root = workDirectory.appendingPathComponent("batch-\(run)")
            let checkout = root.appendingPathComponent("checkout")
            try FileManager.default.createDirectory(at: checkout, withIntermediateDirectories: true)
            var environment = ProcessInfo.processInfo.environment
            environment["XDG_CACHE_HOME"] = root.appendingPathComponent("cache").path
            environment["CAIRN_STORE"] = nil
            let command = [
                settings.cairnExecutable.path, "build", "--cache-dir", root.appendingPathComponent("store").path,
                "--source-dir", checkout.path,
            ]
            let buildEnvironment = environment
            func cairn(_ arguments: [String]) async throws -> String {
                try await Shell.check(command + arguments, environment: buildEnvironment).stdout
            }
            // A variable per run makes its first builds cold ones; one per build keeps the builds' keys apart.
            let identity = UUID().uuidString
            let builds = (1...8).map { "    - identifier: build\($0)\n      env:\n        variables: {N: \"\($0)\"}" }
            let buildspec = """
                version: 0.2
                env:
                  variables:
                    RUN: "\(identity)"
                    N: "0"
                batch:
                  build-list:
                \(builds.joined(separator: "\n"))
                phases:
                  build:
                    commands:
                      - sleep \(sleep)
                      - echo "$N" > out.txt
                """
            try buildspec.write(
                to: checkout.appendingPathComponent("buildspec.yml"), atomically: true, encoding: .utf8)
            let singleStart = ContinuousClock.now
            let alone = try await cairn([])
            single.append((ContinuousClock.now - singleStart).seconds)
            guard alone.contains("1 ran, 0 restored") else {
                throw BenchError("the single build did not run:\n\(alone)")
            }

            let coldStart = ContinuousClock.now
            let first = try await cairn(["--batch", "-j", "4"])
            cold.append((ContinuousClock.now - coldStart).seconds)
            guard first.contains("batch SUCCEEDED") && first.contains("8 phases ran, 0 restored") else {
                throw BenchError("the cold batch did not run its 8 builds:\n\(first)")
            }
            let warmStart = ContinuousClock.now
            let second = try await cairn(["--batch", "-j", "4"])
            warm.append((ContinuousClock.now - warmStart).seconds)
            guard second.contains("0 phases ran, 8 restored") else {
                throw BenchError("the warm batch did not restore its 8 builds:\n\(second)")
            }

            let phases = """
                phases:
                  install:
                    commands:
                      - sleep \(sleep)
                      - echo "installed for $MY_VAR" > install.txt
                  build:
                    commands:
                      - cat install.txt
                """
            for name in ["matrix1", "matrix2"] {
                try "version: 0.2\n\(phases)\n      - echo \(name)\n".write(
                    to: checkout.appendingPathComponent("\(name).yml"), atomically: true, encoding: .utf8)
            }
            let matrix = """
                version: 0.2
                env:
                  variables:
                    RUN: "\(identity)"
                batch:
                  build-matrix:
                    dynamic:
                      buildspec: [matrix1.yml, matrix2.yml]
                      env:
                        variables:
                          MY_VAR: [a, b, c]
                """
            try matrix.write(to: checkout.appendingPathComponent("buildspec.yml"), atomically: true, encoding: .utf8)
            let report = root.appendingPathComponent("matrix.json").path
            _ = try await cairn(["--batch", "-j", "6", "--report", report])
            installs.append(Double(try Self.installsRun(batchReport: report)))
            try? FileManager.default.removeItem(at: root)
        }
        record(Self.batchSingleWorkload, "cairn", "wall time", "s", single)
        record(
            Self.batchColdWorkload, "cairn", "wall time", "s", cold,
            note: "ideal: two rounds of one build alone (4 at a time)")
        record(Self.batchWarmWorkload, "cairn", "wall time", "s", warm)
        record(
            Self.batchMatrixWorkload, "cairn", "install phases run", "phases", installs,
            note: "6 builds, 3 distinct install keys (the variable joins the key), `-j 6`")
    }

    /// The install phases that ran (missed) over the builds of a batch, from each build's own report.
    static func installsRun(batchReport: String) throws -> Int {
        let batch = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: batchReport)))
        let groups = (batch as? [String: Any])?["buildGroups"] as? [[String: Any]] ?? []
        var count = 0
        for group in groups {
            guard let path = group["report"] as? String else { throw BenchError("a build of the matrix did not run") }
            let build = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            let phases = (build as? [String: Any])?["phases"] as? [[String: Any]] ?? []
            count += phases.filter { $0["phaseType"] as? String == "INSTALL" && $0["cache"] as? String == "MISS" }.count
        }
        return count
    }
}
