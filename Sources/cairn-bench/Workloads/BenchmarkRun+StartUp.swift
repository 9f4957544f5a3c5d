import Foundation
import GRDB

extension BenchmarkRun {
    var startUpWorkload: String {
        settings.startupObjects == 1_000_000
            ? "start-up with 1 M objects" : "start-up with \(settings.startupObjects) objects"
    }
    static let emptyStartUpWorkload = "start-up, empty store"

    /// Seconds from spawning `cairn serve` to the first 200 from `/_cairn/health`, on an empty store and on a
    /// store whose metadata holds `startupObjects` objects (rows written straight into SQLite, all naming one
    /// real blob, so that preparing the store takes seconds rather than hours of PUTs).
    func measureStartUp() async throws {
        let dataDirectory = workDirectory.appendingPathComponent("cairn-startup")
        var empty = [try await seedStore(dataDirectory, name: "cairn-startup-seed")]
        for run in 1..<max(2, settings.runs) where empty.count < settings.runs {
            let fresh = try await CairnInstance(
                executable: settings.cairnExecutable,
                dataDirectory: workDirectory.appendingPathComponent("cairn-startup-empty-\(run)"),
                logDirectory: logDirectory, name: "cairn-startup-empty-\(run)"
            )
            empty.append(fresh.secondsToHealthy)
            await fresh.stop()
            try? FileManager.default.removeItem(at: fresh.dataDirectory)
        }
        record(Self.emptyStartUpWorkload, "cairn", "seconds to healthy", "s", empty)

        let clock = ContinuousClock()
        let filled = clock.now
        try Self.fillMetadata(dataDirectory.appendingPathComponent("metadata.sqlite"), objects: settings.startupObjects)
        progress(
            "  wrote \(settings.startupObjects) object rows in \(BenchmarkReport.format((clock.now - filled).seconds)) s"
        )

        var seconds: [Double] = []
        for run in 0..<settings.runs {
            let cairn = try await CairnInstance(
                executable: settings.cairnExecutable, dataDirectory: dataDirectory, logDirectory: logDirectory,
                name: "cairn-startup-\(run)"
            )
            seconds.append(cairn.secondsToHealthy)
            // The rows are real objects: the last one reads back through the S3 API.
            let last = String(format: "many/%08d", settings.startupObjects)
            let status = try await Shell.run([
                "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                cairn.endpoint.plainURL(method: "GET", key: last),
            ])
            await cairn.stop()
            guard status.stdout == "200" else {
                throw BenchError("GET \(last) on the filled store answered \(status.combined)")
            }
        }
        try? FileManager.default.removeItem(at: dataDirectory)
        record(
            startUpWorkload, "cairn", "seconds to healthy", "s", seconds,
            note: "from spawning the process to the first 200 from /_cairn/health")
    }

    /// Copies the `seed` object's rows `objects` times under keys `many/00000001`… in one transaction, then
    /// checkpoints the WAL so that the server opens a database in its resting state.
    static func fillMetadata(_ path: URL, objects: Int) throws {
        let database = try DatabaseQueue(path: path.path)
        try database.write { db in
            // Every column is copied from the seed's rows, so the fill follows schema changes; only the key differs.
            for table in ["objects", "object_segments"] {
                let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))").map { $0["name"] as String }
                let copied = columns.map { $0 == "key" ? "CAST(printf('many/%08d', n.i) AS BLOB)" : "t.\($0)" }
                try db.execute(
                    sql: """
                        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                        INSERT INTO \(table) (\(columns.joined(separator: ", ")))
                        SELECT \(copied.joined(separator: ", ")) FROM n, \(table) t WHERE t.key = CAST('seed' AS BLOB)
                        """,
                    arguments: [objects]
                )
            }
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM objects") ?? 0
            guard count == objects + 1 else {
                throw BenchError("filling the metadata wrote \(count - 1) objects, not \(objects)")
            }
        }
        try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try database.close()
    }
}
