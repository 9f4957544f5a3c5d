import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension BenchmarkRun {
    static let runnerColdWorkload = "runner: cold build (phase misses, runs, stores its outputs)"
    static let runnerWarmWorkload = "runner: warm no-change rebuild in a fresh checkout (restores the outputs)"
    static let codeBuildSaveWorkload = "CodeBuild-style cache save: tar + gzip, `aws s3 cp` up"
    static let codeBuildRestoreWorkload = "CodeBuild-style cache restore: `aws s3 cp` down, extract"
    static let runnerResaveWorkload = "runner: re-save after one output-determining byte changed"

    /// The fixture: one 10 KiB slice per output file of a random `data/seed.bin`, so outputs are a pure function
    /// of the input and changing one byte of it changes exactly one output file.
    var runnerFixture: (files: Int, fileBytes: Int, sleepSeconds: Int) {
        settings.smoke ? (50, 10_486, 1) : (5_000, 10_486, 20)
    }

    /// `cairn build` against a Cairn server: cold build, warm rebuild in a fresh checkout, the CodeBuild-style
    /// tar + gzip + `aws s3 cp` cache of the same outputs against the same server, and the bytes a re-save sends.
    func measureRunner() async throws {
        let fixture = runnerFixture
        let cairn = try await CairnInstance(
            executable: settings.cairnExecutable, dataDirectory: workDirectory.appendingPathComponent("cairn-runner"),
            logDirectory: logDirectory, name: "cairn-runner"
        )
        defer { try? FileManager.default.removeItem(at: cairn.dataDirectory) }
        do {
            try await client.createBucket(cairn.endpoint)
            var environment = ProcessInfo.processInfo.environment
            environment["AWS_ACCESS_KEY_ID"] = CairnInstance.accessKeyID
            environment["AWS_SECRET_ACCESS_KEY"] = CairnInstance.secretAccessKey
            environment["AWS_DEFAULT_REGION"] = "us-east-1"
            environment["AWS_CONFIG_FILE"] = "/dev/null"
            environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
            environment["AWS_EC2_METADATA_DISABLED"] = "true"
            environment["CAIRN_STORE"] = nil
            let withAWS = Shell.exists("aws") && Shell.exists("tar") && Shell.exists("gzip")
            var cold: [Double] = []
            var warm: [Double] = []
            var save: [Double] = []
            var restore: [Double] = []
            var resaveBytes: [Double] = []
            var resaveNewBlobs: [Double] = []
            for run in 0..<settings.runs {
                let root = workDirectory.appendingPathComponent("runner-\(run)")
                let first = root.appendingPathComponent("checkout-1")
                let second = root.appendingPathComponent("checkout-2")
                try writeRunnerProject(first)
                try writeRunnerProject(second, copying: first)

                cold.append(try await timedBuild(first, cairn: cairn, environment: environment, expect: "MISS"))
                try checkOutputs(first)
                warm.append(try await timedBuild(second, cairn: cairn, environment: environment, expect: "HIT"))
                try checkOutputs(second)

                if withAWS {
                    let key = "s3://\(CairnInstance.bucket)/codebuild-cache-\(run).tgz"
                    let endpoint = [
                        "aws", "--endpoint-url", "http://127.0.0.1:\(cairn.port)", "s3", "cp", "--only-show-errors",
                    ]
                    let archive = root.appendingPathComponent("cache.tgz").path
                    let started = ContinuousClock.now
                    let outputs = Self.outputsRoot(first).path
                    try await Shell.check(["tar", "-czf", archive, "-C", outputs, "out"], environment: environment)
                    try await Shell.check(endpoint + [archive, key], environment: environment)
                    save.append((ContinuousClock.now - started).seconds)
                    let third = root.appendingPathComponent("checkout-3")
                    try FileManager.default.createDirectory(at: third, withIntermediateDirectories: true)
                    let downloaded = third.appendingPathComponent("cache.tgz").path
                    let restoring = ContinuousClock.now
                    try await Shell.check(endpoint + [key, downloaded], environment: environment)
                    try await Shell.check(["tar", "-xzf", downloaded, "-C", third.path], environment: environment)
                    restore.append((ContinuousClock.now - restoring).seconds)
                    try checkOutputs(third)
                }

                // One byte in the middle of slice 7 changes: exactly one of the outputs differs.
                let handle = try FileHandle(forUpdating: second.appendingPathComponent("data/seed.bin"))
                try handle.seek(toOffset: UInt64(7 * fixture.fileBytes + fixture.fileBytes / 2))
                let old = try handle.read(upToCount: 1) ?? Data([0])
                try handle.seek(toOffset: UInt64(7 * fixture.fileBytes + fixture.fileBytes / 2))
                try handle.write(contentsOf: Data([old[0] ^ 0xff]))
                try handle.close()
                let blobsBefore = try await Self.settledBlobCount(cairn.dataDirectory)
                let readBefore = Self.bytesRead(pid: cairn.child.pid)
                _ = try await timedBuild(second, cairn: cairn, environment: environment, expect: "MISS")
                resaveBytes.append(Double(Self.bytesRead(pid: cairn.child.pid) - readBefore) / 1e3)
                resaveNewBlobs.append(Double(try await Self.settledBlobCount(cairn.dataDirectory) - blobsBefore))
                // The checkouts stay until the benchmark ends: ext4 (without a journal) creates files slowly for
                // minutes after thousands are deleted, which would slow the next run's restores.
            }
            let shape =
                "\(fixture.files) output files, \(fixture.files * fixture.fileBytes / 1_000_000) MB, build phase `sleep \(fixture.sleepSeconds)` + `split`"
            record(Self.runnerColdWorkload, "cairn", "wall time", "s", cold, note: shape)
            record(Self.runnerWarmWorkload, "cairn", "wall time", "s", warm)
            if withAWS {
                record(
                    Self.codeBuildSaveWorkload, "cairn", "wall time", "s", save,
                    note: "against the same Cairn server; the outputs are random, so gzip cannot shrink them")
                record(Self.codeBuildRestoreWorkload, "cairn", "wall time", "s", restore)
            } else {
                report.omitted.append("CodeBuild-style cache baseline: needs `aws` (pip install awscli), tar and gzip")
            }
            record(
                Self.runnerResaveWorkload, "cairn", "bytes the server read", "kB", resaveBytes,
                note:
                    "rchar of the server process during the re-save build: an upper bound on the bytes uploaded (one changed output is \(fixture.fileBytes / 1000) kB)"
            )
            record(Self.runnerResaveWorkload, "cairn", "new blobs stored", "blobs", resaveNewBlobs)
        } catch {
            await cairn.stop()
            throw error
        }
        await cairn.stop()
    }

    /// Writes the fixture project (or copies another checkout's sources, without its outputs).
    private func writeRunnerProject(_ directory: URL, copying source: URL? = nil) throws {
        let fixture = runnerFixture
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
        let seed = directory.appendingPathComponent("data/seed.bin")
        if let source {
            try FileManager.default.copyItem(at: source.appendingPathComponent("data/seed.bin"), to: seed)
        } else {
            try Self.writeSourceFile(seed, bytes: fixture.files * fixture.fileBytes)
        }
        let buildspec = """
            version: 0.2
            phases:
              build:
                commands:
                  - sleep \(fixture.sleepSeconds)
                  - mkdir -p out
                  - split -b \(fixture.fileBytes) -a 4 -d data/seed.bin out/part-
            """
        try buildspec.write(to: directory.appendingPathComponent("buildspec.yml"), atomically: true, encoding: .utf8)
    }

    /// Runs `cairn build` in a checkout; returns its wall time and checks the build phase's cache outcome.
    private func timedBuild(
        _ directory: URL, cairn: CairnInstance, environment: [String: String], expect: String
    ) async throws -> Double {
        let reportFile = directory.appendingPathComponent("../report-\(UUID().uuidString.prefix(6)).json")
            .standardizedFileURL
        // Each build's workspace is kept, alone under the checkout's own cache directory, for checkOutputs.
        var environment = environment
        environment["XDG_CACHE_HOME"] = Self.cacheHome(of: directory).path
        try? FileManager.default.removeItem(at: Self.cacheHome(of: directory))
        let started = ContinuousClock.now
        try await Shell.check(
            [
                settings.cairnExecutable.path, "build", "--store", "http://127.0.0.1:\(cairn.port)", "--source-dir",
                directory.path, "--report", reportFile.path, "--keep-workspace",
            ],
            environment: environment
        )
        let seconds = (ContinuousClock.now - started).seconds
        let data = try Data(contentsOf: reportFile)
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let phases = json?["phases"] as? [[String: Any]] ?? []
        let build = phases.first { $0["phaseType"] as? String == "BUILD" }
        guard let outcome = build?["cache"] as? String, outcome == expect else {
            throw BenchError(
                "cairn build in \(directory.path): the build phase was \(build?["cache"] ?? "absent"), expected \(expect)"
            )
        }
        return seconds
    }

    /// The cache directory the builds of a checkout use (their workspaces are made in it).
    static func cacheHome(of checkout: URL) -> URL {
        checkout.appendingPathExtension("cache")
    }

    /// Where the last build of a checkout left its outputs: its kept workspace (without a build, the checkout).
    static func outputsRoot(_ directory: URL) -> URL {
        let workspaces = cacheHome(of: directory).appendingPathComponent("cairn-workspaces")
        let kept = (try? FileManager.default.contentsOfDirectory(atPath: workspaces.path))?.filter {
            !$0.hasSuffix(".lock") && !$0.hasPrefix(".")
        }
        return kept?.first.map { workspaces.appendingPathComponent($0) } ?? directory
    }

    /// Checks the outputs of the last build of a checkout.
    private func checkOutputs(_ directory: URL) throws {
        let root = Self.outputsRoot(directory)
        let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("out").path)
        guard files.count == runnerFixture.files else {
            throw BenchError("\(root.path)/out holds \(files.count) files, not \(runnerFixture.files)")
        }
    }

    /// `rchar` of /proc/PID/io: bytes the process read through read-like calls, sockets included.
    static func bytesRead(pid: Int32) -> Int {
        let io = (try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8)) ?? ""
        return io.split(separator: "\n").first { $0.hasPrefix("rchar:") }
            .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// The number of blobs stored, counted until two counts half a second apart agree (a build's uploads have all
    /// been answered by then; this only guards against counting while the last one commits).
    static func settledBlobCount(_ dataDirectory: URL) async throws -> Int {
        var last = try blobCount(dataDirectory)
        while true {
            try await Task.sleep(for: .milliseconds(500))
            let now = try blobCount(dataDirectory)
            if now == last { return now }
            last = now
        }
    }

    /// Blob files in a data directory, plus the small blobs its metadata database holds (they have no file).
    static func blobCount(_ dataDirectory: URL) throws -> Int {
        let enumerator = FileManager.default.enumerator(atPath: dataDirectory.appendingPathComponent("blobs").path)
        var count = 0
        while let path = enumerator?.nextObject() as? String {
            if (path as NSString).lastPathComponent.count == 64 { count += 1 }
        }
        return try count + SQLiteMetadataStore.counts(dataDirectory: dataDirectory.path).smallBlobs
    }
}
