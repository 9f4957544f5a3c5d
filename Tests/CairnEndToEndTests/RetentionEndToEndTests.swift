import CairnCore
import CairnTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Retention through the real interfaces: the AWS CLI's lifecycle calls, `cairn gc --server`, and
/// `cairn gc --data-dir` with a later clock, killed mid-run and run again.
@Suite("Retention end to end", .serialized)
struct RetentionEndToEndTests {
    private func op(_ server: CairnServerProcess, _ arguments: String...) async throws -> ChildProcess.Result {
        try await ChildProcess.run(
            ["python3", Clients.script("s3op.py")] + arguments, environment: server.clientEnvironment)
    }

    private func gc(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment)
        async throws
        -> ChildProcess.Result
    {
        try await ChildProcess.run([CairnServerProcess.executable.path, "gc"] + arguments, environment: environment)
    }

    @Test(
        "a lifecycle configuration set with the AWS CLI is read back, then enforced",
        .requires("aws", "python3", python: ["boto3"])
    )
    func lifecycleEnforced() async throws {
        let server = try CairnServerProcess()
        try server.start()
        try await Clients.runScript(
            "bash", "lifecycle.sh", server: server, bucketPrefix: "retention",
            extraEnvironment: ["CAIRN_EXECUTABLE": CairnServerProcess.executable.path]
        )
        #expect(server.stop() == 0)

        let config = server.dataDirectory.appendingPathComponent("gc.yaml")
        try "retention:\n  grace_period_seconds: 3600\n".write(to: config, atomically: true, encoding: .utf8)
        let later = Date().addingTimeInterval(3 * 86400).formatted(.iso8601)
        let base = ["--data-dir", server.dataDirectory.path, "--config", config.path, "--now", later, "--json"]
        let dry = try await gc(base + ["--dry-run"])
        #expect(dry.status == 0, "\(dry.output)")
        #expect(
            dry.output.contains("\"lifecycle:retention-lifecycle:expire-tmp\" : 1"),
            "the dry run names the rule: \(dry.output)")
        #expect(
            dry.output.contains("\"lifecycle:retention-lifecycle:expire-rc\" : 1"),
            "the tag filter expires only the tagged release: \(dry.output)")
        #expect(
            dry.output.contains("\"lifecycle:retention-lifecycle:end-nightlies\" : 1"),
            "the Date has come for nightly/: \(dry.output)")
        let real = try await gc(base)
        #expect(real.status == 0, "\(real.output)")
        #expect(real.output.contains("\"blobsSwept\" : 2"), "the expired objects' blobs are swept: \(real.output)")

        let restarted = try CairnServerProcess(dataDirectory: server.dataDirectory)
        try restarted.start()
        let keys = try await op(restarted, "keys", "retention-lifecycle")
        #expect(
            keys.output.split(separator: "\n") == ["releases/v1.txt"],
            "tmp/ and the tagged release expired: \(keys.output)")
    }

    @Test(
        "object lock through boto3 and the AWS CLI; cairn gc three days on deletes no version still locked",
        .requires("aws", "python3", python: ["boto3"])
    )
    func objectLockSurvivesGC() async throws {
        let server = try CairnServerProcess()
        try server.start()
        let bucket = "lock-e2e"
        try await Clients.runScript(
            "python3", "objectlock.py", server: server, bucketPrefix: "lock",
            extraEnvironment: ["LOCK_BUCKET": bucket, "LOCK_PHASE": "setup"])
        #expect(server.stop() == 0)

        let config = server.dataDirectory.appendingPathComponent("gc.yaml")
        try "retention:\n  grace_period_seconds: 3600\n".write(to: config, atomically: true, encoding: .utf8)
        let later = Date().addingTimeInterval(3 * 86400).formatted(.iso8601)
        let real = try await gc([
            "--data-dir", server.dataDirectory.path, "--config", config.path, "--now", later, "--json",
        ])
        #expect(real.status == 0, "\(real.output)")
        #expect(
            real.output.contains("\"lifecycle:\(bucket):noncurrent:noncurrent\" : 1"),
            "only the version whose COMPLIANCE date passed expires: \(real.output)")
        // Its blob, and that of the GOVERNANCE version deleted with the bypass: 13 bytes and 1.
        #expect(
            real.output.contains("\"blobsSwept\" : 2") && real.output.contains("\"bytesFreed\" : 14"),
            "and only the blobs no version names are swept: \(real.output)")

        let restarted = try CairnServerProcess(dataDirectory: server.dataDirectory)
        try restarted.start()
        try await Clients.runScript(
            "python3", "objectlock.py", server: restarted, bucketPrefix: "lock",
            extraEnvironment: ["LOCK_BUCKET": bucket, "LOCK_PHASE": "verify"])
    }

    @Test("cairn gc --data-dir refuses while a server holds the directory")
    func offlineRefusesWhileServing() async throws {
        let server = try CairnServerProcess()
        try server.start()
        let result = try await gc(["--data-dir", server.dataDirectory.path])
        #expect(result.status != 0)
        #expect(result.output.contains("in use by another cairn process"), "\(result.output)")
    }

    @Test(
        "a job killed mid-run leaves a consistent store, and the next run finishes the work",
        .requires("python3", python: ["boto3"])
    )
    func killedMidRun() async throws {
        let server = try CairnServerProcess()
        try server.start()
        #expect(try await op(server, "mb", "doomed").status == 0)
        #expect(try await op(server, "mb", "kept").status == 0)
        let fill = try await ChildProcess.run(
            [
                "python3", "-c",
                """
                import boto3, os
                from concurrent.futures import ThreadPoolExecutor
                from botocore.config import Config
                s3 = boto3.client("s3", endpoint_url=os.environ["CAIRN_ENDPOINT"],
                                  config=Config(s3={"addressing_style": "path"}, max_pool_connections=16))
                def put(i):
                    s3.put_object(Bucket="doomed", Key=f"obj-{i:04d}", Body=os.urandom(2048))
                with ThreadPoolExecutor(16) as pool:
                    list(pool.map(put, range(400)))
                s3.put_object(Bucket="kept", Key="keep-me", Body=b"survivor")
                """,
            ],
            environment: server.clientEnvironment
        )
        #expect(fill.status == 0, "\(fill.output)")
        #expect(server.stop() == 0)

        let config = server.dataDirectory.appendingPathComponent("gc.yaml")
        try """
        retention:
          grace_period_seconds: 60
          buckets:
            doomed:
              expire_after_days: 1
        """.write(to: config, atomically: true, encoding: .utf8)
        let later = Date().addingTimeInterval(2 * 86400).formatted(.iso8601)
        var environment = ProcessInfo.processInfo.environment
        environment["CAIRN_RETENTION_BATCH_SIZE"] = "5"
        // Once the job's first deletions have committed, a second connection, started and connected before the job,
        // takes the database's write lock between two of the job's transactions and holds it: the job waits for the
        // lock (the store's busy timeout), so it is still mid-run when it is killed, however fast this machine is.
        let lock = try WriteLockHolder(
            database: server.dataDirectory.appendingPathComponent("metadata.sqlite").path,
            environment: server.clientEnvironment,
            takeWhen: "SELECT count(*) < 400 FROM objects WHERE bucket = 'doomed'"
        )
        let job = try SpawnedProcess(
            executable: CairnServerProcess.executable.path,
            arguments: ["gc", "--data-dir", server.dataDirectory.path, "--config", config.path, "--now", later],
            environment: environment, standardOutput: .null, standardError: .null
        )
        try lock.waitUntilLocked()
        job.send(SIGKILL)
        let termination = job.waitUntilExit()
        lock.release()
        #expect(termination == .signalled(SIGKILL), "the job was still running when it was killed")

        // Right after the kill: the deletions committed before it stay done, and whatever is still listed is
        // readable.
        let check = try CairnServerProcess(dataDirectory: server.dataDirectory)
        try check.start()
        let remaining = try await op(check, "keys", "doomed").output.split(separator: "\n").map(String.init)
        #expect(remaining.count < 400, "the objects the job had deleted stay deleted: \(remaining.count) are listed")
        for key in remaining.prefix(50) {
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-get-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: copy) }
            #expect(
                try await op(check, "get", "doomed", key, copy.path).status == 0,
                "\(key) is listed, so it must be readable")
        }
        #expect(check.stop() == 0)

        let finish = try await gc([
            "--data-dir", server.dataDirectory.path, "--config", config.path, "--now", later, "--json",
        ])
        #expect(finish.status == 0, "\(finish.output)")
        let after = try CairnServerProcess(dataDirectory: server.dataDirectory)
        try after.start()
        #expect(try await op(after, "keys", "doomed").output.isEmpty, "the second run finished the work")
        #expect(try await op(after, "keys", "kept").output.split(separator: "\n") == ["keep-me"])
        #expect(after.stop() == 0)
        // No orphaned blob: exactly one blob (keep-me's) remains. Small blobs are rows of `small_blobs`, not files.
        let blobFiles =
            FileManager.default.enumerator(atPath: server.dataDirectory.appendingPathComponent("blobs").path)?
            .compactMap { $0 as? String }.filter { $0.split(separator: "/").last?.count == 64 } ?? []
        #expect(blobFiles.isEmpty, "small blobs have no files: \(blobFiles)")
        let rows = try await ChildProcess.run(
            [
                "python3", "-c",
                """
                import sqlite3, sys
                database = sqlite3.connect(sys.argv[1])
                print(database.execute("SELECT count(*) FROM small_blobs").fetchone()[0])
                """,
                server.dataDirectory.appendingPathComponent("metadata.sqlite").path,
            ],
            environment: server.clientEnvironment
        )
        #expect(
            rows.output.trimmingCharacters(in: .whitespacesAndNewlines) == "1",
            "only the surviving object's blob is left: \(rows.output)")
    }
}
