import CairnCore
import CairnTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Bad input, disconnects, kills, shutdowns and a full disk: each fails cleanly and loses nothing.
@Suite("Crash safety and bad input", .serialized)
struct CrashSafetyTests {
    private func op(_ server: CairnServerProcess, _ arguments: String...) async throws -> ChildProcess.Result {
        try await ChildProcess.run(
            ["python3", Clients.script("s3op.py")] + arguments, environment: server.clientEnvironment)
    }

    private func makeFile(_ size: Int, seed: UInt8 = 1) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-data-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        var generator = SplitMix(seed: UInt64(seed))
        var remaining = size
        while remaining > 0 {
            let count = min(remaining, 1 << 20)
            handle.write(Data((0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }))
            remaining -= count
        }
        try handle.close()
        return url
    }

    private func temporaryFiles(_ server: CairnServerProcess) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: server.dataDirectory.appendingPathComponent("tmp").path))
            ?? []
    }

    /// The sizes of the temp files uploads are streaming into.
    private func temporaryFileSizes(_ server: CairnServerProcess) -> [Int] {
        let directory = server.dataDirectory.appendingPathComponent("tmp")
        return temporaryFiles(server).compactMap { name in
            try? directory.appendingPathComponent(name).resourceValues(forKeys: [.fileSizeKey]).fileSize
        }
    }

    @Test(
        "malformed requests, wrong digests, disconnects and traversal keys store nothing",
        .requires("python3", python: ["boto3"])
    )
    func badInput() async throws {
        let server = try CairnServerProcess()
        server.environment["CAIRN_VIRTUAL_HOST_DOMAIN"] = "s3.cairn.test"
        try server.start()
        try await Clients.runScript(
            "python3", "robustness.py", server: server, bucketPrefix: "robust",
            extraEnvironment: ["CAIRN_VIRTUAL_HOST_DOMAIN": "s3.cairn.test"]
        )
    }

    @Test(
        "SIGKILL during uploads leaves no object and no temp file after restart",
        .requires("python3", "curl", python: ["boto3"]))
    func killDuringUploads() async throws {
        let server = try CairnServerProcess()
        try server.start()
        #expect(try await op(server, "mb", "crash").status == 0)
        let small = try makeFile(100_000, seed: 2)
        defer { try? FileManager.default.removeItem(at: small) }
        #expect(try await op(server, "put", "crash", "kept", small.path).status == 0)

        let big = try makeFile(300 << 20, seed: 3)
        defer { try? FileManager.default.removeItem(at: big) }
        // Slow, concurrent uploads so the kill lands while bytes are streaming into tmp/. Every URL is signed
        // before any upload starts: signing runs a Python process each, and on a loaded machine that can take
        // longer than one upload, which would let the first finish before the last begins.
        var urls: [String] = []
        for index in 0..<3 {
            urls.append(
                try await op(server, "presign-put", "crash", "inflight-\(index)").output
                    .trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var clients: [SpawnedProcess] = []
        for url in urls {
            let curl = try SpawnedProcess(
                executable: "/usr/bin/env",
                arguments: ["curl", "-s", "-o", "/dev/null", "--limit-rate", "10M", "-T", big.path, url],
                standardOutput: .null, standardError: .null
            )
            clients.append(curl)
        }
        // Each upload is ~30 s long at this rate and they start together: once all three have written bytes into
        // tmp/, the kill lands while every one of them is streaming.
        let streaming = Polling.wait(timeout: 60) { temporaryFileSizes(server).filter { $0 > 0 }.count >= 3 }
        #expect(streaming, "three uploads should be streaming into tmp/ when the server is killed")
        server.stop(signal: SIGKILL)
        for client in clients {
            client.waitUntilExit()
        }

        let restarted = try CairnServerProcess(dataDirectory: server.dataDirectory)
        try restarted.start()
        #expect(temporaryFiles(restarted).isEmpty, "start-up removes the temp files of killed uploads")
        let keys = try await op(restarted, "keys", "crash")
        #expect(keys.status == 0)
        #expect(keys.output.split(separator: "\n") == ["kept"], "only the finished upload exists: \(keys.output)")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-get-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        #expect(try await op(restarted, "get", "crash", "kept", copy.path).status == 0)
        #expect(FileManager.default.contentsEqual(atPath: copy.path, andPath: small.path))
    }

    /// Where the server keeps the blob of a file's content.
    private func blobPath(_ server: CairnServerProcess, of file: URL) async throws -> String {
        let hex = try await ChildProcess.run(
            ["sha256sum", file.path], environment: ProcessInfo.processInfo.environment
        )
        .output.prefix(64)
        return server.dataDirectory.appendingPathComponent(
            "blobs/sha256/\(hex.prefix(2))/\(hex.dropFirst(2).prefix(2))/\(hex)"
        ).path
    }

    @Test(
        "small uploads answered before a SIGKILL survive it: their blobs are rows of metadata.sqlite, not files",
        .requires("python3", "sha256sum", python: ["boto3"]))
    func killAfterJournaledUploads() async throws {
        let server = try CairnServerProcess()
        server.environment["CAIRN_JOURNAL_FLUSH_SECONDS"] = "3600"  // the blobs are still held in memory at the kill
        try server.start()
        #expect(try await op(server, "mb", "journal").status == 0)
        let files = try (0..<3).map { try makeFile(4096 * ($0 + 1), seed: UInt8(20 + $0)) }
        defer { for file in files { try? FileManager.default.removeItem(at: file) } }
        for (index, file) in files.enumerated() {
            #expect(try await op(server, "put", "journal", "small-\(index)", file.path).status == 0)
        }
        var paths: [String] = []
        for file in files { paths.append(try await blobPath(server, of: file)) }
        server.stop(signal: SIGKILL)

        let restarted = try CairnServerProcess(dataDirectory: server.dataDirectory)
        try restarted.start()
        for (index, file) in files.enumerated() {
            #expect(!FileManager.default.fileExists(atPath: paths[index]), "small blob \(index) has no file")
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-get-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: copy) }
            #expect(try await op(restarted, "get", "journal", "small-\(index)", copy.path).status == 0)
            #expect(FileManager.default.contentsEqual(atPath: copy.path, andPath: file.path))
        }
    }

    @Test(
        "SIGTERM lets an upload in flight finish, then exits cleanly",
        .requires("python3", "curl", python: ["boto3"]))
    func gracefulShutdown() async throws {
        let server = try CairnServerProcess()
        try server.start()
        #expect(try await op(server, "mb", "drain").status == 0)
        let file = try makeFile(40 << 20, seed: 4)
        defer { try? FileManager.default.removeItem(at: file) }
        let url = try await op(server, "presign-put", "drain", "slow").output.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let status = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-status-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: status) }
        _ = FileManager.default.createFile(atPath: status.path, contents: nil)
        let statusHandle = try FileHandle(forWritingTo: status)
        let curl = try SpawnedProcess(
            executable: "/usr/bin/env",
            arguments: [
                "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--limit-rate", "5M", "-T", file.path, url,
            ],
            standardOutput: .descriptor(statusHandle.fileDescriptor)
        )
        try statusHandle.close()
        // The upload lasts ~8 s at this rate: once its temp file has bytes, SIGTERM arrives mid-stream.
        let streaming = Polling.wait(timeout: 20) { temporaryFileSizes(server).contains { $0 > 0 } }
        #expect(streaming, "the upload should be streaming into tmp/ when SIGTERM arrives")
        let exitStatus = server.stop(signal: SIGTERM)
        curl.waitUntilExit()
        #expect(exitStatus == 0, "cairn serve exits 0 after SIGTERM:\n\(server.log.suffix(2000))")
        #expect((try String(contentsOf: status, encoding: .utf8)) == "200", "the upload in flight completed")

        let restarted = try CairnServerProcess(dataDirectory: server.dataDirectory)
        try restarted.start()
        #expect(
            try await op(restarted, "head", "drain", "slow").output.trimmingCharacters(in: .whitespacesAndNewlines)
                == String(40 << 20))
        #expect(temporaryFiles(restarted).isEmpty)
    }

    @Test(
        "a full disk fails the write with an error, keeps serving reads and corrupts nothing",
        .requires("python3", "mount", "umount", python: ["boto3"], root: true)
    )
    func fullDisk() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mount = try await ChildProcess.run(
            ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mountPoint.path],
            environment: ProcessInfo.processInfo.environment
        )
        guard mount.status == 0 else {
            Issue.record("could not mount a tmpfs: \(mount.output)")
            return
        }
        defer {
            // Synchronous, as a defer must be: a lazy unmount returns at once.
            _ = try? SpawnedProcess(
                executable: "/usr/bin/env", arguments: ["umount", "-l", mountPoint.path],
                environment: ProcessInfo.processInfo.environment, standardInput: .null, standardOutput: .null,
                standardError: .null
            ).waitUntilExit()
            try? FileManager.default.removeItem(at: mountPoint)
        }
        let server = try CairnServerProcess(dataDirectory: mountPoint.appendingPathComponent("data"))
        try server.start()
        #expect(try await op(server, "mb", "full").status == 0)
        let first = try makeFile(20 << 20, seed: 5)
        let tooBig = try makeFile(40 << 20, seed: 6)
        let small = try makeFile(1 << 20, seed: 7)
        defer { for file in [first, tooBig, small] { try? FileManager.default.removeItem(at: file) } }
        #expect(try await op(server, "put", "full", "first", first.path).status == 0)

        let refused = try await op(server, "put", "full", "too-big", tooBig.path)
        #expect(refused.status == 3, "the write fails: \(refused.output)")
        #expect(refused.output.contains("InsufficientStorage"), "with a clear error code: \(refused.output)")
        #expect(temporaryFiles(server).isEmpty, "the partial temp file is removed")
        #expect(try await op(server, "head", "full", "too-big").output.contains("404"))

        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-get-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        #expect(try await op(server, "get", "full", "first", copy.path).status == 0, "reads keep working")
        #expect(FileManager.default.contentsEqual(atPath: copy.path, andPath: first.path))
        #expect(
            try await op(server, "put", "full", "small", small.path).status == 0, "writes work again once there is room"
        )

        server.stop()
        let restarted = try CairnServerProcess(dataDirectory: server.dataDirectory)
        try restarted.start()
        let keys = try await op(restarted, "keys", "full")
        #expect(
            keys.output.split(separator: "\n") == ["first", "small"], "metadata intact after restart: \(keys.output)")
    }
}

/// A tiny deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
