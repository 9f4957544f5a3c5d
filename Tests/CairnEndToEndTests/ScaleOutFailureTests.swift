import CairnCore
import CairnTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Three nodes on PostgreSQL and SeaweedFS when something fails: a node killed with `kill -9` in the middle of uploads,
/// cache writes and a retention sweep; PostgreSQL stopped and started again; the object store killed and started
/// again. What a client was told succeeded must be there, whole, on every other node; what failed must have said so
/// (503, never 200 or 500); and the nodes must serve again on their own.
@Suite("Scale-out failures", .serialized, .requires("aws", "curl", "weed", postgres: true))
struct ScaleOutFailureTests {
    /// One write of the first test: an S3 object or a Bazel CAS or AC entry, its content, and the node it goes to.
    struct Write: Sendable {
        let path: String
        let file: URL
        let node: Int
        /// Sent slowly, so that it is in flight when its node is killed.
        let slow: Bool
    }

    /// Whether a status is a success.
    static func succeeded(_ status: Int) -> Bool { (200..<300).contains(status) }

    /// A request through curl: S3 paths signed with SigV4, `/_cairn/` paths with the root credentials as Basic auth.
    /// Returns the HTTP status, or 0 when no answer came (the connection was refused or reset).
    static func send(
        _ method: String, _ node: CairnServerProcess, _ path: String, upload: URL? = nil, output: URL? = nil,
        rate: String? = nil
    ) async throws -> Int {
        let user = "\(CairnServerProcess.accessKeyID):\(CairnServerProcess.secretAccessKey)"
        var arguments = [
            "curl", "-s", "-o", output?.path ?? "/dev/null", "-w", "%{http_code}", "--max-time", "600", "-u", user,
        ]
        arguments += method == "HEAD" ? ["-I"] : ["-X", method]
        if !path.hasPrefix("/_cairn/") {
            arguments += ["--aws-sigv4", "aws:amz:us-east-1:s3", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
        }
        if let upload {
            arguments += ["--data-binary", "@\(upload.path)", "-H", "Content-Type: application/octet-stream"]
        }
        if let rate { arguments += ["--limit-rate", rate] }
        let result = try await ChildProcess.run(arguments + [node.endpoint + path])
        return Int(result.output.suffix(3)) ?? 0
    }

    /// Sends a write to its node and, when no success came, again to the nodes still running (a client's retry);
    /// returns the statuses in order.
    static func write(_ write: Write, nodes: [CairnServerProcess], victim: Int) async throws -> [Int] {
        var statuses = [
            try await send("PUT", nodes[write.node], write.path, upload: write.file, rate: write.slow ? "32k" : nil)
        ]
        let others = nodes.indices.filter { $0 != victim && $0 != write.node }
        var attempt = 0
        while !succeeded(statuses.last ?? 0) && attempt < 6 {
            let node = nodes[others[attempt % others.count]]
            statuses.append(try await send("PUT", node, write.path, upload: write.file))
            attempt += 1
        }
        return statuses
    }

    /// Random bytes, so that no two files share a blob unless a test means them to.
    static func randomFile(_ url: URL, size: Int) throws {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: size)
        for index in bytes.indices { bytes[index] = generator.next() }
        try Data(bytes).write(to: url)
    }

    static func sha256(_ url: URL) throws -> String {
        let digest = MessageDigest(.sha256)
        digest.update(Array(try Data(contentsOf: url)))
        return digest.finalize().hexString
    }

    /// The keys and sizes a listing shows (through the AWS CLI).
    static func listing(_ node: CairnServerProcess, bucket: String) async throws -> [String: Int] {
        let text = try await ScaleOutTests.aws(node, ["s3api", "list-objects-v2", "--bucket", bucket])
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return [:] }
        let contents = try ScaleOutTests.json(text)["Contents"] as? [[String: Any]] ?? []
        var keys: [String: Int] = [:]
        for entry in contents {
            if let key = entry["Key"] as? String, let size = entry["Size"] as? Int { keys[key] = size }
        }
        return keys
    }

    /// Counts finished writes, so the kill waits until the work is seen under way.
    actor Progress {
        private(set) var finished = 0
        func finish() { finished += 1 }
    }

    @Test("kill -9 of a node mid-uploads and mid-cache-writes: every acknowledged write reads whole elsewhere")
    func nodeKilledDuringWrites() async throws {
        let nodes = try await ScaleOutTests.startNodes(3)
        let victim = 1
        let directory = try TemporaryDirectory(prefix: "cairn-scalefail")
        _ = try await ScaleOutTests.aws(nodes[0], ["s3api", "create-bucket", "--bucket", "uploads"])

        var writes: [Write] = []
        for index in 0..<24 {
            let file = directory.appending("object\(index)")
            try Self.randomFile(file, size: 1024 + index * 60_000)
            writes.append(Write(path: "/uploads/objects/\(index)", file: file, node: index % 3, slow: false))
        }
        for index in 0..<18 {
            let file = directory.appending("cas\(index)")
            try Self.randomFile(file, size: 512 + index * 20_000)
            let path = "/_cairn/bazel/main/cas/\(try Self.sha256(file))"
            writes.append(Write(path: path, file: file, node: index % 3, slow: false))
        }
        // An empty ActionResult is a valid one; its key is any digest.
        let empty = directory.appending("empty-action-result")
        try Data().write(to: empty)
        for index in 0..<9 {
            let key = MessageDigest.sha256Hex("action \(index) \(UUID())")
            writes.append(Write(path: "/_cairn/bazel/main/ac/\(key)", file: empty, node: index % 3, slow: false))
        }
        // In flight on the node that is killed: at 32 KiB/s these take minutes, so the kill comes in their middle.
        for index in 0..<3 {
            let file = directory.appending("slow\(index)")
            try Self.randomFile(file, size: 4 << 20)
            writes.append(Write(path: "/uploads/slow/\(index)", file: file, node: victim, slow: true))
        }
        let casFile = directory.appending("slow-cas")
        try Self.randomFile(casFile, size: 3 << 20)
        writes.append(
            Write(path: "/_cairn/bazel/main/cas/\(try Self.sha256(casFile))", file: casFile, node: victim, slow: true))

        // A multipart upload created on node 0; its first part goes slowly to the node that is killed.
        let created = try await ScaleOutTests.aws(
            nodes[0], ["s3api", "create-multipart-upload", "--bucket", "uploads", "--key", "multi.bin"])
        let uploadID = try #require(ScaleOutTests.json(created)["UploadId"] as? String)
        let firstPart = directory.appending("part1")
        let secondPart = directory.appending("part2")
        try Self.randomFile(firstPart, size: 5 << 20)
        try Self.randomFile(secondPart, size: 300_000)
        // The query in canonical (sorted) order: curl signs it as written.
        let partPath = { (number: Int) in "/uploads/multi.bin?partNumber=\(number)&uploadId=\(uploadID)" }
        let parts = [
            Write(path: partPath(1), file: firstPart, node: victim, slow: true),
            Write(path: partPath(2), file: secondPart, node: 2, slow: false),
        ]

        let progress = Progress()
        let results = try await withThrowingTaskGroup(of: [(String, [Int])].self) { group in
            group.addTask {
                // The kill, once writes are seen finishing (and the slow ones are still under way).
                let deadline = ContinuousClock.now + .seconds(300)
                while await progress.finished < 10 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                let finished = await progress.finished
                nodes[victim].stop(signal: SIGKILL)
                return [("kill", [finished])]
            }
            group.addTask {
                var statuses: [(String, [Int])] = []
                for part in parts {
                    statuses.append((part.path, try await Self.write(part, nodes: nodes, victim: victim)))
                }
                return statuses
            }
            for slow in writes.filter(\.slow) {
                group.addTask { [(slow.path, try await Self.write(slow, nodes: nodes, victim: victim))] }
            }
            // The fast writes, four at a time, so that they go on across the kill.
            let fast = writes.filter { !$0.slow }
            for lane in 0..<4 {
                group.addTask {
                    var statuses: [(String, [Int])] = []
                    for write in stride(from: lane, to: fast.count, by: 4).map({ fast[$0] }) {
                        statuses.append((write.path, try await Self.write(write, nodes: nodes, victim: victim)))
                        await progress.finish()
                    }
                    return statuses
                }
            }
            return try await group.reduce(into: [String: [Int]]()) { all, batch in
                for (path, statuses) in batch { all[path] = statuses }
            }
        }

        let killedAfter = try #require(results["kill"]?.first)
        #expect(killedAfter >= 10, "the kill came once writes were seen finishing")
        let interrupted = writes.filter(\.slow).map(\.path) + [parts[0].path]
        for path in interrupted {
            let statuses = results[path] ?? []
            #expect(statuses.count > 1 && !Self.succeeded(statuses[0]), "\(path) was interrupted: \(statuses)")
        }
        for write in writes + parts {
            let statuses = results[write.path] ?? []
            #expect(statuses.last.map(Self.succeeded) == true, "\(write.path) succeeded in the end: \(statuses)")
            #expect(!statuses.contains(500), "\(write.path) never answered 500: \(statuses)")
        }

        // Completed on node 2 with the parts' ETags as node 0 lists them.
        let listed = try await ScaleOutTests.aws(
            nodes[0], ["s3api", "list-parts", "--bucket", "uploads", "--key", "multi.bin", "--upload-id", uploadID])
        let partList = try #require(ScaleOutTests.json(listed)["Parts"] as? [[String: Any]])
        let completion = partList.map { ["PartNumber": $0["PartNumber"] ?? 0, "ETag": $0["ETag"] ?? ""] }
        let completionJSON = String(
            decoding: try JSONSerialization.data(withJSONObject: ["Parts": completion]), as: UTF8.self)
        #expect(partList.count == 2, "both parts are listed once: \(listed)")
        _ = try await ScaleOutTests.aws(
            nodes[2],
            [
                "s3api", "complete-multipart-upload", "--bucket", "uploads", "--key", "multi.bin", "--upload-id",
                uploadID, "--multipart-upload", completionJSON,
            ])

        // Every write reads whole from both surviving nodes.
        let survivors = [nodes[0], nodes[2]]
        for write in writes {
            for node in survivors {
                let copy = directory.appending("copy-\(UUID().uuidString)")
                let status = try await Self.send("GET", node, write.path, output: copy)
                #expect(status == 200, "GET \(write.path) on \(node.endpoint)")
                if status == 200 {
                    #expect(
                        try Data(contentsOf: copy) == Data(contentsOf: write.file), "\(write.path) on \(node.endpoint)")
                }
            }
        }
        let whole = try Data(contentsOf: firstPart) + Data(contentsOf: secondPart)
        for node in survivors {
            let copy = directory.appending("multi-\(UUID().uuidString)")
            #expect(try await Self.send("GET", node, "/uploads/multi.bin", output: copy) == 200)
            #expect(try Data(contentsOf: copy) == whole, "multi.bin on \(node.endpoint)")
        }

        // Nothing partial: the listing holds exactly the objects written, each at its full size.
        var expected: [String: Int] = ["multi.bin": whole.count]
        for write in writes where write.path.hasPrefix("/uploads/") {
            expected[String(write.path.dropFirst("/uploads/".count))] = try Data(contentsOf: write.file).count
        }
        for node in survivors {
            #expect(try await Self.listing(node, bucket: "uploads") == expected, "listing on \(node.endpoint)")
        }
        let uploads = try await ScaleOutTests.aws(
            nodes[2], ["s3api", "list-multipart-uploads", "--bucket", "uploads"])
        #expect(!uploads.contains("UploadId"), "no upload is left in progress: \(uploads)")
    }

    @Test(
        "kill -9 of the node running a retention sweep: the next sweep, on another node, finishes; nothing kept is lost"
    )
    func nodeKilledDuringRetention() async throws {
        let database = try await PostgresServer.shared.makeDatabase()
        let nodes = try await ScaleOutTests.startNodes(
            3, database: database,
            environment: [
                "CAIRN_RETENTION_INTERVAL_SECONDS": "0", "CAIRN_RETENTION_BATCH_SIZE": "1",
                "CAIRN_RETENTION_BUCKETS": "{doomed: {expire_after_days: 1}}",
            ])
        let directory = try TemporaryDirectory(prefix: "cairn-scalefail")
        let doomed = directory.appending("doomed")
        let kept = directory.appending("kept")
        try FileManager.default.createDirectory(at: doomed, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: kept, withIntermediateDirectories: true)
        let doomedCount = 400
        for index in 0..<doomedCount {
            try Self.randomFile(doomed.appending(path: "d\(index)"), size: 200 + index * 10)
        }
        // Ten kept objects share their content (and so their blob) with doomed ones; twenty have their own.
        for index in 0..<10 {
            try FileManager.default.copyItem(
                at: doomed.appending(path: "d\(index)"), to: kept.appending(path: "shared\(index)"))
        }
        for index in 0..<20 { try Self.randomFile(kept.appending(path: "own\(index)"), size: 3000 + index) }
        for bucket in ["doomed", "kept"] {
            _ = try await ScaleOutTests.aws(nodes[0], ["s3api", "create-bucket", "--bucket", bucket])
        }
        _ = try await ScaleOutTests.aws(nodes[0], ["s3", "sync", "--quiet", doomed.path, "s3://doomed/"])
        _ = try await ScaleOutTests.aws(nodes[2], ["s3", "sync", "--quiet", kept.path, "s3://kept/"])

        // Two days pass for the doomed objects and every blob: past the expiry rule and the grace period.
        let postgres = PostgresServer.shared
        try await postgres.psql(database, "UPDATE objects SET created_at = created_at - 172800 WHERE bucket = 'doomed'")
        try await postgres.psql(database, "UPDATE blobs SET created_at = created_at - 172800")
        func count(_ sql: String) async throws -> Int {
            Int(try await postgres.psql(database, sql).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        let doomedObjects = "SELECT count(*) FROM objects WHERE bucket = 'doomed'"
        let blobsBefore = try await count("SELECT count(*) FROM blobs")
        #expect(try await count(doomedObjects) == doomedCount)

        let victim = nodes[1]
        let sweep = Task { try await Self.send("POST", victim, "/_cairn/admin/gc") }
        let deadline = ContinuousClock.now + .seconds(300)
        while try await count(doomedObjects) == doomedCount && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        victim.stop(signal: SIGKILL)
        let left = try await count(doomedObjects)
        let blobsLeft = try await count("SELECT count(*) FROM blobs")
        #expect(try await sweep.value != 200, "the killed node never answered its sweep")
        #expect(
            left > 0 || blobsLeft > blobsBefore - (doomedCount - 10),
            "the kill came in the middle of the sweep (\(left) objects, \(blobsLeft) of \(blobsBefore) blobs left)")

        // The next sweep, on another node, once the killed node's session (and its lock) is gone.
        let report = directory.appending("report.json")
        var finished = false
        while !finished && ContinuousClock.now < deadline + .seconds(300) {
            let status = try await Self.send("POST", nodes[2], "/_cairn/admin/gc", output: report)
            #expect(status == 200 || status == 503, "the sweep answers: \(status)")
            let json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: report))) as? [String: Any]
            finished = status == 200 && json?["ranElsewhere"] as? Bool == false
            if !finished { try await Task.sleep(for: .seconds(1)) }
        }
        #expect(finished, "a sweep on another node ran to its end")
        #expect(try await count(doomedObjects) == 0)
        #expect(try await Self.listing(nodes[0], bucket: "doomed").isEmpty)
        #expect(
            try await count("SELECT count(*) FROM blobs") == blobsBefore - (doomedCount - 10),
            "every blob only doomed objects named is swept, and no other")

        // Every kept object reads whole from the surviving nodes.
        for name in try FileManager.default.contentsOfDirectory(atPath: kept.path) {
            for node in [nodes[0], nodes[2]] {
                let copy = directory.appending("copy-\(UUID().uuidString)")
                #expect(try await Self.send("GET", node, "/kept/\(name)", output: copy) == 200)
                #expect(
                    try Data(contentsOf: copy) == Data(contentsOf: kept.appending(path: name)),
                    "kept/\(name) on \(node.endpoint)")
            }
        }
    }

    /// A bucket `data` with one object, `before`, of 100 000 random bytes (the file returned).
    static func seed(_ nodes: [CairnServerProcess]) async throws -> (TemporaryDirectory, URL) {
        let directory = try TemporaryDirectory(prefix: "cairn-scalefail")
        let file = directory.appending("content")
        try Self.randomFile(file, size: 100_000)
        _ = try await ScaleOutTests.aws(nodes[0], ["s3api", "create-bucket", "--bucket", "data"])
        #expect(try await Self.send("PUT", nodes[0], "/data/before", upload: file) == 200)
        return (directory, file)
    }

    /// Expects an S3 PUT to be answered `503 SlowDown` (a backend is down).
    static func expectSlowDown(
        _ node: CairnServerProcess, _ path: String, upload: URL, in directory: TemporaryDirectory
    ) async throws {
        let answer = directory.appending("answer-\(UUID().uuidString)")
        let status = try await Self.send("PUT", node, path, upload: upload, output: answer)
        #expect(status == 503, "PUT \(path) on \(node.endpoint) while a backend is down")
        let body = (try? String(contentsOf: answer, encoding: .utf8)) ?? ""
        #expect(body.contains("<Code>SlowDown</Code>"), "an S3 error: \(body)")
    }

    /// Expects every node to store `after<index>` again within three minutes, without being restarted.
    static func expectServesAgain(_ nodes: [CairnServerProcess], upload: URL) async throws {
        for (index, node) in nodes.enumerated() {
            let deadline = ContinuousClock.now + .seconds(180)
            var status = 0
            while status != 200 && ContinuousClock.now < deadline {
                status = try await Self.send("PUT", node, "/data/after\(index)", upload: upload)
                if status != 200 { try await Task.sleep(for: .seconds(1)) }
            }
            #expect(status == 200, "\(node.endpoint) serves again without a restart")
        }
    }

    @Test("PostgreSQL stopped: requests get 503, never 200 or 500; started again, the same nodes serve on their own")
    func postgresRestart() async throws {
        let postgres = PostgresServer()
        let database = try await postgres.makeDatabase()
        let nodes = try await ScaleOutTests.startNodes(2, database: database)
        let (directory, file) = try await Self.seed(nodes)

        try await postgres.stop()
        for (index, node) in nodes.enumerated() {
            try await Self.expectSlowDown(node, "/data/during\(index)", upload: file, in: directory)
            #expect(try await Self.send("GET", node, "/data/before") == 503, "GET on \(node.endpoint)")
            let ac = "/_cairn/bazel/main/ac/\(MessageDigest.sha256Hex("during \(index)"))"
            #expect(try await Self.send("PUT", node, ac, upload: file) == 503, "Bazel AC PUT on \(node.endpoint)")
        }

        try await postgres.restart()
        try await Self.expectServesAgain(nodes, upload: file)
        for (index, node) in nodes.enumerated() {
            #expect(try await Self.send("HEAD", node, "/data/during\(index)") == 404, "nothing was committed")
            let copy = directory.appending("copy\(index)")
            #expect(try await Self.send("GET", node, "/data/before", output: copy) == 200)
            #expect(try Data(contentsOf: copy) == Data(contentsOf: file))
        }
    }

    @Test("the object store killed: PUT gets 503 SlowDown and nothing is committed; started again, PUT works")
    func objectStoreOutage() async throws {
        let objectStore = SeaweedServer()
        let nodes = try await ScaleOutTests.startNodes(2, objectStore: objectStore)
        let (directory, file) = try await Self.seed(nodes)

        try await objectStore.kill()
        for (index, node) in nodes.enumerated() {
            // Larger than the small-blob limit (64 KiB), so its bytes must go to the object store.
            let content = directory.appending("during\(index)")
            try Self.randomFile(content, size: 200_000)
            try await Self.expectSlowDown(node, "/data/during\(index)", upload: content, in: directory)
            let cas = "/_cairn/bazel/main/cas/\(try Self.sha256(content))"
            #expect(try await Self.send("PUT", node, cas, upload: content) == 503, "Bazel CAS PUT on \(node.endpoint)")
        }

        // A blob small enough to live in PostgreSQL does not need the object store: it is stored meanwhile.
        let small = directory.appending("small")
        try Self.randomFile(small, size: 1_000)
        #expect(try await Self.send("PUT", nodes[0], "/data/small", upload: small) == 200)

        try await objectStore.restart()
        try await Self.expectServesAgain(nodes, upload: file)
        #expect(
            try await Self.listing(nodes[1], bucket: "data") == [
                "before": 100_000, "small": 1_000, "after0": 100_000, "after1": 100_000,
            ])
        let copy = directory.appending("copy")
        #expect(try await Self.send("GET", nodes[1], "/data/before", output: copy) == 200)
        #expect(try Data(contentsOf: copy) == Data(contentsOf: file))
    }
}
