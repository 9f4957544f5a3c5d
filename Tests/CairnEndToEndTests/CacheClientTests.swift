import CairnTestSupport
import Foundation
import Testing

/// The build-cache protocols with their real clients (ccache, sccache's S3 backend, Bazel) and protocol tests that
/// follow the client sources (Gradle, Turborepo), against a real `cairn serve`.
@Suite("Build-cache clients", .serialized)
struct CacheClientTests {
    /// Creates a token in the server's data directory with `cairn token create`.
    static func makeToken(
        _ server: CairnServerProcess, namespace: String, readOnly: Bool, scopes: String? = nil
    ) async throws -> String {
        var arguments = [
            CairnServerProcess.executable.path, "token", "create", "--data-dir", server.dataDirectory.path,
            "--namespace", namespace,
        ]
        if readOnly { arguments.append("--read-only") }
        if let scopes { arguments += ["--scope", scopes] }
        let result = try await ChildProcess.run(arguments, environment: ProcessInfo.processInfo.environment)
        guard result.status == 0,
            let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix("cairn_") })
        else { throw ServerFailure("cairn token create failed: \(result.output)") }
        return String(line)
    }

    @Test(
        "Gradle, Turborepo, Bazel rules, tokens and the cache API",
        .requires("python3"))
    func protocols() async throws {
        let server = try CairnServerProcess()
        server.environment["CAIRN_CACHE_MAX_ENTRY_BYTES"] = String(4 << 20)
        try server.start()
        let readWrite = try await Self.makeToken(server, namespace: "team-a", readOnly: false)
        let readOnly = try await Self.makeToken(server, namespace: "team-a", readOnly: true)
        try await Clients.runScript(
            "python3", "cache_protocols.py", server: server, bucketPrefix: "cache",
            extraEnvironment: [
                "CAIRN_TOKEN_RW": readWrite, "CAIRN_TOKEN_RO": readOnly, "CAIRN_MAX_ENTRY": String(4 << 20),
            ]
        )
    }

    static func writeCProject(in directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for index in 0..<4 {
            try "int f\(index)(int x) { return x * \(index + 2); }\n"
                .write(to: directory.appendingPathComponent("f\(index).c"), atomically: true, encoding: .utf8)
        }
        try "#include <stdio.h>\nint f0(int);\nint main(void) { printf(\"%d\\n\", f0(21)); return 0; }\n"
            .write(to: directory.appendingPathComponent("main.c"), atomically: true, encoding: .utf8)
    }

    /// Compiles the project through ccache and returns `ccache --print-stats` as a dictionary.
    static func compile(_ project: URL, environment: [String: String]) async throws -> [String: Int] {
        for name in ["f0", "f1", "f2", "f3", "main"] {
            let result = try await ChildProcess.run(
                ["ccache", "gcc", "-O1", "-c", "\(name).c", "-o", "\(name).o"], environment: environment,
                directory: project
            )
            guard result.status == 0 else { throw ServerFailure("ccache gcc failed: \(result.output)") }
        }
        let stats = try await ChildProcess.run(["ccache", "--print-stats"], environment: environment)
        var values: [String: Int] = [:]
        for line in stats.output.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2, let value = Int(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    @Test(
        "ccache: a second build with an emptied local cache is all remote hits, for every layout",
        .requires("ccache", "gcc"),
        arguments: ["subdirs", "flat", "bazel"]
    )
    func ccache(layout: String) async throws {
        let server = try CairnServerProcess()
        try server.start()
        let token = try await Self.makeToken(server, namespace: "builds", readOnly: false)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-ccache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let project = work.appendingPathComponent("project")
        try Self.writeCProject(in: project)
        let host = server.endpoint.replacingOccurrences(of: "http://", with: "")
        var environment = ProcessInfo.processInfo.environment
        environment["CCACHE_DIR"] = work.appendingPathComponent("ccache").path
        environment["CCACHE_REMOTE_STORAGE"] = "http://ci:\(token)@\(host)/_cairn/ccache/builds|layout=\(layout)"
        environment["CCACHE_CONFIGPATH"] = "/dev/null"

        _ = try await ChildProcess.run(["ccache", "-z"], environment: environment)
        let cold = try await Self.compile(project, environment: environment)
        #expect(cold["remote_storage_write", default: 0] > 0, "the cold build writes to Cairn: \(cold)")

        _ = try await ChildProcess.run(["ccache", "-C"], environment: environment)
        _ = try await ChildProcess.run(["ccache", "-z"], environment: environment)
        let warm = try await Self.compile(project, environment: environment)
        #expect(warm["remote_storage_read_hit", default: 0] >= 5, "every compile is a remote hit: \(warm)")
        #expect(warm["remote_storage_read_miss", default: 0] == 0, "no remote misses: \(warm)")
        #expect(warm["cache_miss", default: 0] == 0, "nothing compiled again: \(warm)")
    }

    @Test(
        "ccache with a read-only token gets hits and has its writes refused",
        .requires("ccache", "gcc"))
    func ccacheReadOnly() async throws {
        let server = try CairnServerProcess()
        try server.start()
        let writer = try await Self.makeToken(server, namespace: "builds", readOnly: false)
        let reader = try await Self.makeToken(server, namespace: "builds", readOnly: true)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-ccache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let project = work.appendingPathComponent("project")
        try Self.writeCProject(in: project)
        let host = server.endpoint.replacingOccurrences(of: "http://", with: "")
        var environment = ProcessInfo.processInfo.environment
        environment["CCACHE_DIR"] = work.appendingPathComponent("ccache").path
        environment["CCACHE_CONFIGPATH"] = "/dev/null"
        environment["CCACHE_REMOTE_STORAGE"] = "http://ci:\(writer)@\(host)/_cairn/ccache/builds"
        _ = try await Self.compile(project, environment: environment)

        environment["CCACHE_REMOTE_STORAGE"] = "http://fork:\(reader)@\(host)/_cairn/ccache/builds"
        _ = try await ChildProcess.run(["ccache", "-C"], environment: environment)
        _ = try await ChildProcess.run(["ccache", "-z"], environment: environment)
        let hits = try await Self.compile(project, environment: environment)
        #expect(hits["remote_storage_read_hit", default: 0] >= 5, "the read-only token gets hits: \(hits)")

        try "int f0(int x) { return x + 1000; }\n".write(
            to: project.appendingPathComponent("f0.c"), atomically: true, encoding: .utf8
        )
        _ = try await ChildProcess.run(["ccache", "-z"], environment: environment)
        let refused = try await Self.compile(project, environment: environment)
        #expect(refused["remote_storage_write", default: 0] == 0, "nothing was written: \(refused)")
        #expect(refused["remote_storage_error", default: 0] > 0, "the write was refused: \(refused)")
    }

    /// `sccache --show-stats` as JSON: the counts of one stats group (`cache_hits`, `cache_misses`, …) summed over
    /// languages.
    private static func sccacheCount(_ name: String, environment: [String: String]) async throws -> Int {
        let result = try await ChildProcess.run(
            ["sccache", "--show-stats", "--stats-format=json"], environment: environment)
        guard result.status == 0,
            let start = result.output.firstIndex(of: "{"),
            let json = try JSONSerialization.jsonObject(with: Data(result.output[start...].utf8)) as? [String: Any],
            let stats = json["stats"] as? [String: Any]
        else { throw ServerFailure("sccache --show-stats failed: \(result.output)") }
        let group = stats[name] as? [String: Any]
        let counts = group?["counts"] as? [String: Int] ?? [:]
        return counts.values.reduce(0, +)
    }

    @Test(
        "sccache: the same compilation from a fresh sccache server is a hit from Cairn's S3 API",
        .requires("sccache", "gcc", "python3", python: ["boto3"]))
    func sccache() async throws {
        let server = try CairnServerProcess()
        try server.start()
        let work = try TemporaryDirectory(prefix: "cairn-sccache")
        let bucket = "sccache-\(UUID().uuidString.prefix(8).lowercased())"
        var environment = server.clientEnvironment
        let made = try await ChildProcess.run(
            ["python3", Clients.script("s3op.py"), "mb", bucket], environment: environment)
        #expect(made.status == 0, "\(made.output)")
        try "int add(int a, int b) { return a + b; }\n".write(
            to: work.url.appendingPathComponent("add.c"), atomically: true, encoding: .utf8)
        environment["SCCACHE_BUCKET"] = bucket
        environment["SCCACHE_ENDPOINT"] = server.endpoint
        environment["SCCACHE_REGION"] = "us-east-1"
        environment["SCCACHE_S3_USE_SSL"] = "false"
        environment["SCCACHE_S3_KEY_PREFIX"] = "ci"
        // Its own server on a socket in the scratch directory: no port to collide with, no user configuration.
        environment["SCCACHE_SERVER_UDS"] = work.url.appendingPathComponent("sccache.sock").path
        environment["SCCACHE_DIR"] = work.url.appendingPathComponent("local").path
        environment["SCCACHE_CONF"] = work.url.appendingPathComponent("no-config.toml").path
        environment["SCCACHE_IDLE_TIMEOUT"] = "0"

        func run(_ arguments: [String]) async throws -> ChildProcess.Result {
            try await ChildProcess.run(arguments, environment: environment, directory: work.url)
        }
        func compile() async throws {
            let result = try await run(["sccache", "gcc", "-O1", "-c", "add.c", "-o", "add.o"])
            #expect(result.status == 0, "sccache gcc failed: \(result.output)")
        }
        #expect(try await run(["sccache", "--start-server"]).status == 0)
        try await compile()
        #expect(try await Self.sccacheCount("cache_misses", environment: environment) == 1)
        let first = try Data(contentsOf: work.url.appendingPathComponent("add.o"))
        // Stopping waits for the entry's upload; the next server starts with nothing but what Cairn holds.
        _ = try await run(["sccache", "--stop-server"])
        try FileManager.default.removeItem(at: work.url.appendingPathComponent("add.o"))
        #expect(try await run(["sccache", "--start-server"]).status == 0)
        try await compile()
        let hits = try await Self.sccacheCount("cache_hits", environment: environment)
        let misses = try await Self.sccacheCount("cache_misses", environment: environment)
        let errors = try await Self.sccacheCount("cache_errors", environment: environment)
        _ = try await run(["sccache", "--stop-server"])
        #expect(hits == 1 && misses == 0 && errors == 0, "hits \(hits), misses \(misses), errors \(errors)")
        #expect(try Data(contentsOf: work.url.appendingPathComponent("add.o")) == first)
        let keys = try await ChildProcess.run(
            ["python3", Clients.script("s3op.py"), "keys", bucket], environment: environment)
        #expect(
            keys.output.split(separator: "\n").contains { $0.hasPrefix("ci/") },
            "entries under the prefix: \(keys.output)")
    }
}
