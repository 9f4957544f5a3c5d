import Foundation
import GRDB

extension SQLiteMetadataStore {
    /// Appends a document to a kind's journal and trims the kind to its newest `keep` documents.
    public func appendObservation(kind: String, document: Data, at date: Date, keep: Int) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO observations (kind, recorded_at, document) VALUES (?, ?, ?)",
                arguments: [kind, date.timeIntervalSince1970, document])
            // The id of the oldest row kept; everything of the kind before it goes.
            try db.execute(
                sql: """
                    DELETE FROM observations WHERE kind = ? AND id < (
                        SELECT id FROM observations WHERE kind = ? ORDER BY id DESC LIMIT 1 OFFSET ?)
                    """,
                arguments: [kind, kind, max(keep, 1) - 1])
        }
    }

    /// A kind's newest `limit` documents recorded at or after `since`, oldest first.
    public func observations(kind: String, since: Date, limit: Int) async throws -> [(date: Date, document: Data)] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT recorded_at, document FROM observations WHERE kind = ? AND recorded_at >= ?
                    ORDER BY id DESC LIMIT ?
                    """,
                arguments: [kind, since.timeIntervalSince1970, limit]
            ).reversed().map { row in
                (date: Date(timeIntervalSince1970: row["recorded_at"]), document: row["document"])
            }
        }
    }
}
