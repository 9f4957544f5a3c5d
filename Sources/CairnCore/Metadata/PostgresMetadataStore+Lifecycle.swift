import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    public func lifecycle(bucket: String) async throws -> [LifecycleRule]? {
        try await client.withConnection { connection in
            try await self.requireBucket(bucket, on: connection)
            let rows = try await self.rows(
                "SELECT rules FROM bucket_lifecycle WHERE bucket = \(bucket)", on: connection)
            guard let text = try rows.first?.decode(String.self) else { return nil }
            return try JSONDecoder().decode([LifecycleRule].self, from: Data(text.utf8))
        }
    }

    public func setLifecycle(bucket: String, rules: [LifecycleRule]) async throws {
        let text = String(decoding: try JSONEncoder().encode(rules), as: UTF8.self)
        try await transaction { connection in
            try await self.requireBucket(bucket, on: connection)
            try await self.rows(
                """
                INSERT INTO bucket_lifecycle (bucket, rules) VALUES (\(bucket), \(text))
                ON CONFLICT (bucket) DO UPDATE SET rules = excluded.rules
                """, on: connection)
        }
    }

    public func deleteLifecycle(bucket: String) async throws {
        try await transaction { connection in
            try await self.requireBucket(bucket, on: connection)
            try await self.rows("DELETE FROM bucket_lifecycle WHERE bucket = \(bucket)", on: connection)
        }
    }
}
