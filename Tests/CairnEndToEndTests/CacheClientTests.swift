import CairnTestSupport
import Foundation
import Testing

/// The build-cache protocols with their real clients (ccache, Bazel) and protocol tests that follow the client
/// sources (Gradle, Turborepo, sccache's S3 backend), against a real `cairn serve`.
@Suite("Build-cache clients", .serialized)
struct CacheClientTests {
    /// Creates a token in the server's data directory with `cairn token create`.
    static func makeToken(_ server: CairnServerProcess, namespace: String, readOnly: Bool) async throws -> String {
        var arguments = [
            CairnServerProcess.executable.path, "token", "create", "--data-dir", server.dataDirectory.path,
            "--namespace", namespace,
        ]
        if readOnly { arguments.append("--read-only") }
        let result = try await ChildProcess.run(arguments, environment: ProcessInfo.processInfo.environment)
        guard result.status == 0,
            let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix("cairn_") })
        else { throw ServerFailure("cairn token create failed: \(result.output)") }
        return String(line)
    }

    @Test(
        "Gradle, Turborepo, sccache, Bazel rules, tokens and the cache API",
        .requires("python3", python: ["boto3"]))
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

    private static func writeCProject(in directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for index in 0..<4 {
            try "int f\(index)(int x) { return x * \(index + 2); }\n"
                .write(to: directory.appendingPathComponent("f\(index).c"), atomically: true, encoding: .utf8)
        }
        try "#include <stdio.h>\nint f0(int);\nint main(void) { printf(\"%d\\n\", f0(21)); return 0; }\n"
            .write(to: directory.appendingPathComponent("main.c"), atomically: true, encoding: .utf8)
    }

    /// Compiles the project through ccache and returns `ccache --print-stats` as a dictionary.
    private static func compile(_ project: URL, environment: [String: String]) async throws -> [String: Int] {
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
}
