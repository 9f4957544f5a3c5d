import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    /// A bucket's configuration document of one kind (its CORS rules, say); nil when none is set.
    public func bucketConfiguration(bucket: String, kind: String) async throws -> Data? {
        try await client.withConnection { connection in
            try await self.requireBucket(bucket, on: connection)
            return try await self.rows(
                "SELECT document FROM bucket_configurations WHERE bucket = \(bucket) AND kind = \(kind)",
                on: connection
            ).first?.decode(Data.self)
        }
    }

    /// Replaces a bucket's configuration document of one kind; nil removes it.
    public func setBucketConfiguration(bucket: String, kind: String, document: Data?) async throws {
        try await transaction { connection in
            try await self.requireBucket(bucket, on: connection)
            if let document {
                try await self.rows(
                    """
                    INSERT INTO bucket_configurations (bucket, kind, document) VALUES (\(bucket), \(kind), \(document))
                    ON CONFLICT (bucket, kind) DO UPDATE SET document = excluded.document
                    """, on: connection)
            } else {
                try await self.rows(
                    "DELETE FROM bucket_configurations WHERE bucket = \(bucket) AND kind = \(kind)", on: connection)
            }
        }
    }
}
