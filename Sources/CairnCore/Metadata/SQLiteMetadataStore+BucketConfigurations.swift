import Foundation
import GRDB

extension SQLiteMetadataStore {
    /// A bucket's configuration document of one kind (its CORS rules, say); nil when none is set.
    public func bucketConfiguration(bucket: String, kind: String) async throws -> Data? {
        try await pool.read { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            return try Data.fetchOne(
                db, sql: "SELECT document FROM bucket_configurations WHERE bucket = ? AND kind = ?",
                arguments: [bucket, kind])
        }
    }

    /// Replaces a bucket's configuration document of one kind; nil removes it.
    public func setBucketConfiguration(bucket: String, kind: String, document: Data?) async throws {
        try await pool.write { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            if let document {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO bucket_configurations (bucket, kind, document) VALUES (?, ?, ?)",
                    arguments: [bucket, kind, document])
            } else {
                try db.execute(
                    sql: "DELETE FROM bucket_configurations WHERE bucket = ? AND kind = ?", arguments: [bucket, kind])
            }
        }
    }
}
