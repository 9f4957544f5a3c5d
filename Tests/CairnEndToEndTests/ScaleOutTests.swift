import CairnCore
import CairnTestSupport
import Foundation
import Testing

/// Three `cairn serve` nodes on one PostgreSQL database and one SeaweedFS bucket, as behind a load balancer: every
/// request may reach any node, and each must answer as one server would.
@Suite("Scale-out: three nodes on PostgreSQL and an object store", .requires("aws", "curl", "weed", postgres: true))
struct ScaleOutTests {
    /// Starts `count` nodes on a new database (`database`, when given) and a new bucket prefix of the shared
    /// SeaweedFS (or of `objectStore`), with `environment` added to each node's.
    static func startNodes(
        _ count: Int, database: String? = nil, objectStore: SeaweedServer = .shared, environment: [String: String] = [:]
    ) async throws -> [CairnServerProcess] {
        var url = database
        if url == nil { url = try await PostgresServer.shared.makeDatabase() }
        let database = try #require(url)
        let endpoint = try await objectStore.s3Endpoint()
        let prefix = "cairn-\(UUID().uuidString.lowercased().prefix(8))"
        return try (0..<count).map { _ in
            let node = try CairnServerProcess()
            node.environment = [
                "CAIRN_METADATA_URL": database, "CAIRN_BLOB_URL": "s3://scaleout/\(prefix)",
                "CAIRN_BLOB_ENDPOINT": endpoint, "CAIRN_BLOB_ACCESS_KEY_ID": SeaweedServer.accessKeyID,
                "CAIRN_BLOB_SECRET_ACCESS_KEY": SeaweedServer.secretAccessKey,
            ].merging(environment) { $1 }
            try node.start()
            return node
        }
    }

    static func aws(_ node: CairnServerProcess, _ arguments: [String]) async throws -> String {
        let result = try await ChildProcess.run(
            ["aws", "--endpoint-url", node.endpoint] + arguments, environment: node.clientEnvironment)
        guard result.status == 0 else {
            throw CommandFailure(
                description: "aws \(arguments.joined(separator: " ")) on \(node.endpoint): \(result.output)")
        }
        return result.output
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// `curl` with the root credentials as Basic auth; returns the HTTP status.
    static func curl(_ arguments: [String]) async throws -> Int {
        let auth = "\(CairnServerProcess.accessKeyID):\(CairnServerProcess.secretAccessKey)"
        let result = try await ChildProcess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", auth] + arguments)
        return Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test("A multipart upload created on node 1, parts on nodes 2 and 3, completes on node 1 and reads everywhere")
    func multipartAcrossNodes() async throws {
        let nodes = try await Self.startNodes(3)
        let directory = try TemporaryDirectory(prefix: "cairn-scaleout")
        let first = directory.appending("part1")
        let second = directory.appending("part2")
        try Data((0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: first)
        try Data("the last part".utf8).write(to: second)

        _ = try await Self.aws(nodes[0], ["s3api", "create-bucket", "--bucket", "builds"])
        let created = try await Self.aws(
            nodes[0], ["s3api", "create-multipart-upload", "--bucket", "builds", "--key", "big.bin"])
        let uploadID = try #require(Self.json(created)["UploadId"] as? String)
        var etags: [String] = []
        for (number, (node, file)) in [(nodes[1], first), (nodes[2], second)].enumerated() {
            let answer = try await Self.aws(
                node,
                [
                    "s3api", "upload-part", "--bucket", "builds", "--key", "big.bin", "--upload-id", uploadID,
                    "--part-number", "\(number + 1)", "--body", file.path,
                ])
            etags.append(try #require(Self.json(answer)["ETag"] as? String))
        }
        let parts = #"{"Parts": [{"PartNumber": 1, "ETag": \#(etags[0])}, {"PartNumber": 2, "ETag": \#(etags[1])}]}"#
        _ = try await Self.aws(
            nodes[0],
            [
                "s3api", "complete-multipart-upload", "--bucket", "builds", "--key", "big.bin", "--upload-id",
                uploadID, "--multipart-upload", parts,
            ])
        let expected = try Data(contentsOf: first) + Data(contentsOf: second)
        for node in nodes {
            let copy = directory.appending("copy-\(node.endpoint.suffix(5))")
            _ = try await Self.aws(node, ["s3", "cp", "s3://builds/big.bin", copy.path])
            #expect(try Data(contentsOf: copy) == expected, "read from \(node.endpoint)")
        }
    }

    @Test("Versions written on different nodes are one history: listed, read by id and deleted from any node")
    func versionsAcrossNodes() async throws {
        let nodes = try await Self.startNodes(3)
        let directory = try TemporaryDirectory(prefix: "cairn-scaleout")
        _ = try await Self.aws(nodes[0], ["s3api", "create-bucket", "--bucket", "history"])
        _ = try await Self.aws(
            nodes[0],
            ["s3api", "put-bucket-versioning", "--bucket", "history", "--versioning-configuration", "Status=Enabled"])
        var versionIDs: [String] = []
        for (index, node) in nodes.enumerated() {
            let file = directory.appending("v\(index)")
            try Data("version \(index)".utf8).write(to: file)
            let answer = try await Self.aws(
                node, ["s3api", "put-object", "--bucket", "history", "--key", "app.tar", "--body", file.path])
            versionIDs.append(try #require(Self.json(answer)["VersionId"] as? String))
        }
        let listed = try Self.json(
            try await Self.aws(nodes[1], ["s3api", "list-object-versions", "--bucket", "history"]))
        let versions = try #require(listed["Versions"] as? [[String: Any]])
        #expect(versions.compactMap { $0["VersionId"] as? String } == versionIDs.reversed())
        // The oldest version, read by id on another node than the one that wrote it.
        let oldest = directory.appending("oldest")
        _ = try await Self.aws(
            nodes[2],
            [
                "s3api", "get-object", "--bucket", "history", "--key", "app.tar", "--version-id", versionIDs[0],
                oldest.path,
            ])
        #expect(try Data(contentsOf: oldest) == Data("version 0".utf8))
        // A delete marker on one node hides the key on every node; deleting the marker on another brings it back.
        let deleted = try Self.json(
            try await Self.aws(nodes[0], ["s3api", "delete-object", "--bucket", "history", "--key", "app.tar"]))
        let marker = try #require(deleted["VersionId"] as? String)
        for node in nodes {
            let head = try await ChildProcess.run(
                [
                    "aws", "--endpoint-url", node.endpoint, "s3api", "head-object", "--bucket", "history", "--key",
                    "app.tar",
                ],
                environment: node.clientEnvironment)
            #expect(head.status != 0 && head.output.contains("404"), "hidden on \(node.endpoint): \(head.output)")
        }
        _ = try await Self.aws(
            nodes[1], ["s3api", "delete-object", "--bucket", "history", "--key", "app.tar", "--version-id", marker])
        let current = directory.appending("current")
        _ = try await Self.aws(nodes[2], ["s3", "cp", "s3://history/app.tar", current.path])
        #expect(try Data(contentsOf: current) == Data("version 2".utf8))
    }

    @Test("Read-after-write on any node; a Bazel AC entry written on one node is a hit on the others")
    func readAfterWrite() async throws {
        let nodes = try await Self.startNodes(3)
        let directory = try TemporaryDirectory(prefix: "cairn-scaleout")
        _ = try await Self.aws(nodes[2], ["s3api", "create-bucket", "--bucket", "raw"])
        for index in 0..<6 {
            let file = directory.appending("f\(index)")
            try Data("object \(index)".utf8).write(to: file)
            _ = try await Self.aws(nodes[index % 3], ["s3", "cp", file.path, "s3://raw/k\(index)"])
            let copy = directory.appending("c\(index)")
            _ = try await Self.aws(nodes[(index + 1) % 3], ["s3", "cp", "s3://raw/k\(index)", copy.path])
            #expect(try Data(contentsOf: copy) == Data("object \(index)".utf8))
        }

        // An empty ActionResult is a valid one; its key is any digest.
        let empty = directory.appending("empty")
        try Data().write(to: empty)
        let key = String(repeating: "ab", count: 32)
        let ac = "/_cairn/bazel/main/ac/\(key)"
        #expect(try await Self.curl([nodes[0].endpoint + ac]) == 404)
        #expect(try await Self.curl(["-X", "PUT", "--data-binary", "@\(empty.path)", nodes[1].endpoint + ac]) == 200)
        for node in nodes { #expect(try await Self.curl([node.endpoint + ac]) == 200, "hit on \(node.endpoint)") }
    }

    @Test("A token created with cairn token works on every node; revoked, every node refuses it at once")
    func tokensAcrossNodes() async throws {
        let database = try await PostgresServer.shared.makeDatabase()
        let nodes = try await Self.startNodes(3, database: database)
        let cairn = CairnServerProcess.executable.path
        let created = try await ChildProcess.run(
            [cairn, "token", "create", "--namespace", "*", "--metadata-url", database])
        try #require(created.status == 0, "cairn token create: \(created.output)")
        let secret = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("cairn_") })
        let path = "/_cairn/bazel/main/ac/" + String(repeating: "cd", count: 32)
        func status(_ node: CairnServerProcess) async throws -> Int {
            let result = try await ChildProcess.run(
                [
                    "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(secret)",
                    node.endpoint + path,
                ])
            return Int(result.output) ?? -1
        }
        for node in nodes { #expect(try await status(node) == 404, "a miss, not a refusal, on \(node.endpoint)") }
        let listed = try await ChildProcess.output([cairn, "token", "list", "--metadata-url", database], in: "/")
        let line = try #require(listed.split(separator: "\n").first { $0.contains("\t") })
        let id = try #require(line.split(separator: "\t").first.map(String.init))
        try await ChildProcess.output([cairn, "token", "revoke", id, "--metadata-url", database], in: "/")
        for node in nodes { #expect(try await status(node) == 401, "refused on \(node.endpoint)") }
    }
}
