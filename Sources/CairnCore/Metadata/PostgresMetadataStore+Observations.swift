import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    /// Appends a document to a kind's journal and trims the kind to its newest `keep` documents, in one
    /// transaction; every node appends to and reads the same journal.
    public func appendObservation(kind: String, document: Data, at date: Date, keep: Int) async throws {
        try await transaction { connection in
            try await self.rows(
                """
                INSERT INTO observations (kind, recorded_at, document)
                VALUES (\(kind), \(date.timeIntervalSince1970), \(document))
                """, on: connection)
            // The id of the oldest row kept; everything of the kind before it goes.
            try await self.rows(
                """
                DELETE FROM observations WHERE kind = \(kind) AND id < (
                    SELECT id FROM observations WHERE kind = \(kind) ORDER BY id DESC LIMIT 1 OFFSET \(max(keep, 1) - 1))
                """, on: connection)
        }
    }

    /// A kind's newest `limit` documents recorded at or after `since`, oldest first.
    public func observations(kind: String, since: Date, limit: Int) async throws -> [(date: Date, document: Data)] {
        try await client.query(
            """
            SELECT recorded_at, document FROM observations WHERE kind = \(kind) AND recorded_at >= \(since.timeIntervalSince1970)
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger
        ).reversed().map { row in
            let (recorded, document) = try row.decode((Double, Data).self)
            return (date: Date(timeIntervalSince1970: recorded), document: document)
        }
    }
}
