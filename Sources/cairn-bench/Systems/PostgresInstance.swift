import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A PostgreSQL cluster of its own (Debian's `postgresql`: `initdb` and `pg_ctl`) on a free loopback port, with
/// PostgreSQL's durable defaults (`fsync` and `synchronous_commit` on): the metadata store of Cairn's scale-out
/// configuration. As root, the cluster belongs to Debian's `postgres` user, since PostgreSQL refuses to run as root.
final class PostgresInstance: Sendable {
    let directory: URL
    let port: Int
    private let binaries: String
    private let prefix: [String]

    /// Whether `initdb` is installed where Debian puts it.
    static var binaryDirectory: String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted().reversed().map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }

    init(directory: URL) async throws {
        guard let binaries = Self.binaryDirectory else {
            throw BenchError("PostgreSQL is not installed (`apt-get install postgresql`)")
        }
        self.binaries = binaries
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        prefix = geteuid() == 0 ? ["runuser", "-u", "postgres", "--"] : []
        if geteuid() == 0 { try await Shell.check(["chown", "postgres", directory.path]) }
        try await Shell.check(
            prefix + [
                "\(binaries)/initdb", "-D", directory.path + "/data", "-U", "cairn", "--auth=trust", "-E", "UTF8",
            ])
        port = try LoopbackSocket.freePort()
        let options =
            "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c max_connections=300 "
            + "-c shared_buffers=256MB"
        try await Shell.check(
            prefix + [
                "\(binaries)/pg_ctl", "-D", directory.path + "/data", "-o", options, "-l",
                directory.path + "/server.log", "-w", "-t", "60", "start",
            ])
    }

    /// Creates a new database; returns its URL.
    func makeDatabase(_ name: String) async throws -> String {
        try await Shell.check(["psql", "-X", "-q", url("postgres"), "-c", "CREATE DATABASE \(name)"])
        return url(name)
    }

    func url(_ database: String) -> String { "postgres://cairn@127.0.0.1:\(port)/\(database)" }

    /// The pids of the cluster's processes (postmaster and its children), for CPU accounting.
    func processIDs() -> [Int32] {
        guard let text = try? String(contentsOfFile: directory.path + "/data/postmaster.pid", encoding: .utf8),
            let first = text.split(separator: "\n").first, let postmaster = Int32(first)
        else { return [] }
        return [postmaster] + ProcessCPU.children(of: postmaster)
    }

    func stop() async {
        _ = try? await Shell.run(
            prefix + ["\(binaries)/pg_ctl", "-D", directory.path + "/data", "-m", "fast", "-w", "stop"])
    }
}
