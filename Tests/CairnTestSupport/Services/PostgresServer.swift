import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A PostgreSQL server for the tests: the one `CAIRN_TEST_POSTGRES_URL` names (a URL whose user may create
/// databases), or else a cluster of its own, started once per test process with Debian's `initdb` and `pg_ctl` in a
/// temporary directory on a free loopback port, and stopped when the process exits.
///
/// Each test gets a database of its own from ``makeDatabase()``, so tests run in parallel without seeing each
/// other's rows. A test that stops the server (``stop()``, ``restart()``) makes one of its own with ``init()``.
public actor PostgresServer {
    /// The server every test of this process shares.
    public static let shared = PostgresServer()

    /// Starts the server once, resolving to `postgres://user@host:port` without a database and the cluster this
    /// process started, if any. A task, not a value: the actor is reentrant, and tests that ask while it starts must
    /// wait for that start, not begin another.
    private var starting: Task<(url: String, cluster: Cluster?), any Error>?
    private var databases = 0

    /// A cluster this process started: what `pg_ctl` needs to stop and start it again on the same port.
    struct Cluster: Sendable {
        let prefix: [String]
        let binaries: String
        let directory: String
        let options: String

        var startCommand: [String] {
            prefix + [
                "\(binaries)/pg_ctl", "-D", directory + "/data", "-o", options, "-l", directory + "/server.log", "-w",
                "-t", "60", "start",
            ]
        }
    }

    /// A server of its own, started on first use: for a test that stops it, so that the others are not disturbed.
    public init() {}

    /// Whether a server can be had: the variable is set, or `initdb` is installed.
    public static var isAvailable: Bool {
        ProcessInfo.processInfo.environment["CAIRN_TEST_POSTGRES_URL"] != nil || binaryDirectory != nil
    }

    /// The directory of `initdb`, `pg_ctl` and `postgres` (Debian keeps them off the PATH).
    static var binaryDirectory: String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted().reversed().map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }

    /// A new, empty database; returns its URL.
    public func makeDatabase() async throws -> String {
        let base = try await start()
        databases += 1
        let name = "cairn_test_\(getpid())_\(databases)"
        try await psql(base + "/postgres", "CREATE DATABASE \(name)")
        return base + "/" + name
    }

    /// Runs SQL through `psql` against a database URL; returns what it printed.
    @discardableResult
    public func psql(_ url: String, _ sql: String) async throws -> String {
        let result = try await ChildProcess.run([
            "psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", url, "-c", sql,
        ])
        guard result.status == 0 else {
            throw CommandFailure(description: "psql \(sql) failed (\(result.status)): \(result.output)")
        }
        return result.output
    }

    private func start() async throws -> String {
        try await started().url
    }

    private func started() async throws -> (url: String, cluster: Cluster?) {
        if let starting { return try await starting.value }
        let task = Task { try await Self.startServer() }
        starting = task
        return try await task.value
    }

    /// Stops the server as an administrator would for a restart (`pg_ctl stop -m fast`: open sessions are ended and
    /// new connections refused). Only for a cluster this process started.
    public func stop() async throws {
        let cluster = try await ownCluster()
        try await Self.run(
            cluster.prefix + [
                "\(cluster.binaries)/pg_ctl", "-D", cluster.directory + "/data", "-m", "fast", "-w", "stop",
            ])
    }

    /// Starts a server that ``stop()`` stopped again, on the same port with the same data.
    public func restart() async throws {
        try await Self.run(try await ownCluster().startCommand)
    }

    private func ownCluster() async throws -> Cluster {
        guard let cluster = try await started().cluster else {
            throw CommandFailure(description: "the server CAIRN_TEST_POSTGRES_URL names is not this process's to stop")
        }
        return cluster
    }

    private static func startServer() async throws -> (url: String, cluster: Cluster?) {
        if let url = ProcessInfo.processInfo.environment["CAIRN_TEST_POSTGRES_URL"] {
            var components = URLComponents(string: url)
            components?.path = ""
            guard let text = components?.string else {
                throw CommandFailure(description: "CAIRN_TEST_POSTGRES_URL \(url) is not a URL")
            }
            return (text, nil)
        }
        guard let binaries = Self.binaryDirectory else {
            throw CommandFailure(description: "PostgreSQL is not installed (apt-get install postgresql)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-postgres-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // PostgreSQL refuses to run as root: as root, the cluster belongs to Debian's postgres user.
        let prefix: [String] = geteuid() == 0 ? ["runuser", "-u", "postgres", "--"] : []
        if geteuid() == 0 {
            try await run(["chown", "postgres", directory])
        }
        try await run(
            prefix + ["\(binaries)/initdb", "-D", directory + "/data", "-U", "cairn", "--auth=trust", "-E", "UTF8"])
        let port = try Self.freePort()
        // Durability is not under test here; fsync off keeps the many small transactions cheap on a shared disk.
        let options =
            "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            + "-c max_connections=300"
        let cluster = Cluster(prefix: prefix, binaries: binaries, directory: directory, options: options)
        try await run(cluster.startCommand)
        stopAtExit(binaries: binaries, directory: directory, asPostgres: geteuid() == 0)
        return ("postgres://cairn@127.0.0.1:\(port)", cluster)
    }

    private static func run(_ arguments: [String]) async throws {
        let result = try await ChildProcess.run(arguments)
        guard result.status == 0 else {
            throw CommandFailure(
                description: "\(arguments.joined(separator: " ")) failed (\(result.status)): \(result.output)")
        }
    }

    /// A TCP port nothing listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw CommandFailure(description: "no free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A loopback port nothing listens on (for tests of an unreachable server).
    public static func unusedPort() throws -> Int { try freePort() }

    /// Whether nothing listens on `port` of 127.0.0.1 now (a bind succeeds).
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// The commands that stop the clusters, run by `atexit`, which takes no closure with captures.
    private static let stopCommands = Mutex<[String]>([])

    private static func stopAtExit(binaries: String, directory: String, asPostgres: Bool) {
        let stop = "\(binaries)/pg_ctl -D \(directory)/data -m immediate -s stop >/dev/null 2>&1; rm -rf \(directory)"
        let first = stopCommands.withLock { commands in
            commands.append(asPostgres ? "runuser -u postgres -- sh -c '\(stop)'" : stop)
            return commands.count == 1
        }
        guard first else { return }
        atexit {
            for command in PostgresServer.stopCommands.withLock({ $0 }) { _ = system(command) }
        }
    }
}
