import Foundation
import GRDB

extension SQLiteMetadataStore {
    /// A bucket's lifecycle rules; nil when none are set.
    public func lifecycle(bucket: String) async throws -> [LifecycleRule]? {
        try await pool.read { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            guard
                let text = try String.fetchOne(
                    db, sql: "SELECT rules FROM bucket_lifecycle WHERE bucket = ?", arguments: [bucket])
            else { return nil }
            return try JSONDecoder().decode([LifecycleRule].self, from: Data(text.utf8))
        }
    }

    /// Replaces a bucket's lifecycle rules.
    public func setLifecycle(bucket: String, rules: [LifecycleRule]) async throws {
        let text = String(decoding: try JSONEncoder().encode(rules), as: UTF8.self)
        try await pool.write { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            try db.execute(
                sql: "INSERT OR REPLACE INTO bucket_lifecycle (bucket, rules) VALUES (?, ?)", arguments: [bucket, text]
            )
        }
    }

    /// Removes a bucket's lifecycle rules.
    public func deleteLifecycle(bucket: String) async throws {
        try await pool.write { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            try db.execute(sql: "DELETE FROM bucket_lifecycle WHERE bucket = ?", arguments: [bucket])
        }
    }
}
