import Foundation
import GRDB

extension SQLiteMetadataStore {
    /// Copies the row of object `key` (and its segments) to `count` new keys, `keyPrefix` followed by the numbers
    /// 1…`count` as eight digits, in one transaction, and checkpoints the log: fills a store for load and start-up
    /// tests without sending the same bytes a million times. The copies name the same blobs as the original.
    public func replicateObject(bucket: String, key: String, count: Int, keyPrefix: String) async throws {
        try await pool.write { db in
            // Every column is copied from the original's rows, so this follows schema changes; only the key differs.
            for table in ["objects", "object_segments"] {
                let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))").map { $0["name"] as String }
                let copied = columns.map { $0 == "key" ? "CAST(? || printf('%08d', n.i) AS BLOB)" : "t.\($0)" }
                try db.execute(
                    sql: """
                        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                        INSERT INTO \(table) (\(columns.joined(separator: ", ")))
                        SELECT \(copied.joined(separator: ", ")) FROM n, \(table) t
                        WHERE t.bucket = ? AND t.key = CAST(? AS BLOB)
                        """,
                    arguments: [count, keyPrefix, bucket, key]
                )
            }
        }
        cachedObjects.invalidateAll()
        _ = try await pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Whether `dataDirectory` holds a metadata database (a server has used it).
    public static func exists(dataDirectory: String) -> Bool {
        FileManager.default.fileExists(atPath: dataDirectory + "/metadata.sqlite")
    }

    /// How many objects and small blobs the database in `dataDirectory` holds, read without opening it for
    /// writing (a running server may own it).
    public static func counts(dataDirectory: String) throws -> (objects: Int, smallBlobs: Int) {
        var configuration = Configuration()
        configuration.readonly = true
        let database = try DatabaseQueue(path: dataDirectory + "/metadata.sqlite", configuration: configuration)
        defer { try? database.close() }
        return try database.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM objects") ?? 0,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM small_blobs") ?? 0
            )
        }
    }
}
