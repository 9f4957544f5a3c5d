import Foundation
import GRDB

extension SQLiteMetadataStore {
    /// Stores (or replaces) a cache entry. Its value and referenced blobs must already be committed.
    public func putEntry(_ entry: ActionEntry) async throws {
        try await commits.submit { db in
            // The value must exist; a missing reference only makes the entry a miss until it is stored (Bazel
            // may upload an action result before, or without, all of its outputs).
            try Self.requireBlobs([entry.value.digest], in: self.blobs, db: db)
            try db.execute(
                sql: "DELETE FROM action_entries WHERE namespace = ? AND key = ?",
                arguments: [entry.namespace, entry.key]
            )
            let time = entry.createdAt.timeIntervalSince1970
            try db.execute(
                sql: """
                    INSERT INTO action_entries
                        (namespace, key, value_digest, value_size, total_size, attributes, created_at, accessed_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    entry.namespace, entry.key, entry.value.digest.hex, entry.value.size, entry.totalSize,
                    try Self.jsonAttributes(entry.attributes), time, time,
                ]
            )
            let statement = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO action_entry_blobs (namespace, key, digest) VALUES (?, ?, ?)"
            )
            for digest in Set([entry.value.digest] + entry.references) {
                try statement.execute(arguments: [entry.namespace, entry.key, digest.hex])
            }
            try Self.registerBlob(entry.value, db: db, at: entry.createdAt, blobs: self.blobs)
            for reference in entry.references {
                try db.execute(
                    sql: "UPDATE blobs SET created_at = MAX(created_at, ?) WHERE digest = ?",
                    arguments: [entry.createdAt.timeIntervalSince1970, reference.hex]
                )
            }
        }
    }

    /// The entry, or nil.
    public func entry(namespace: String, key: String) async throws -> ActionEntry? {
        try await pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM action_entries WHERE namespace = ? AND key = ?",
                    arguments: [namespace, key]
                )
            else { return nil }
            let value = BlobSegment(digest: BlobDigest(hex: row["value_digest"] as String)!, size: row["value_size"])
            let references = try String.fetchAll(
                db, sql: "SELECT digest FROM action_entry_blobs WHERE namespace = ? AND key = ? ORDER BY digest",
                arguments: [namespace, key]
            ).compactMap(BlobDigest.init(hex:)).filter { $0 != value.digest }
            let attributes = try JSONDecoder().decode(
                [String: String].self, from: Data((row["attributes"] as String).utf8))
            return ActionEntry(
                namespace: namespace, key: key, value: value, references: references, attributes: attributes,
                totalSize: row["total_size"], createdAt: Date(timeIntervalSince1970: row["created_at"])
            )
        }
    }

    /// Deletes an entry; returns whether it existed. Its blobs stay until retention sweeps them.
    @discardableResult
    public func deleteEntry(namespace: String, key: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM action_entries WHERE namespace = ? AND key = ?", arguments: [namespace, key])
            return db.changesCount > 0
        }
    }

    /// Records that entries were read, in one transaction.
    public func recordEntryAccess(_ accesses: [(namespace: String, key: String, date: Date)]) async throws {
        guard !accesses.isEmpty else { return }
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: "UPDATE action_entries SET accessed_at = MAX(accessed_at, ?) WHERE namespace = ? AND key = ?"
            )
            for access in accesses {
                try statement.execute(arguments: [access.date.timeIntervalSince1970, access.namespace, access.key])
            }
        }
    }

    /// Records blobs written directly (CAS uploads), so retention knows their size and age.
    public func registerBlobs(_ segments: [BlobSegment], at date: Date) async throws {
        try await pool.write { db in
            for segment in segments { try Self.registerBlob(segment, db: db, at: date, blobs: self.blobs) }
        }
    }

    static func jsonAttributes(_ attributes: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(attributes), as: UTF8.self)
    }
}
