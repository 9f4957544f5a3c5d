import Foundation
import GRDB

extension SQLiteMetadataStore {
    /// Creates a token and returns it with its secret (which is not stored and cannot be shown again).
    public func createToken(namespace: String, readOnly: Bool, at date: Date) async throws -> (
        CacheToken, secret: String
    ) {
        let secret = "cairn_" + SecureRandom.bytes(24).hexString
        let token = CacheToken(
            id: SecureRandom.bytes(6).hexString, namespace: namespace, readOnly: readOnly, createdAt: date)
        try await pool.write { db in
            try db.execute(
                sql:
                    "INSERT INTO cache_tokens (id, secret_sha256, namespace, read_only, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [token.id, MessageDigest.sha256Hex(secret), namespace, readOnly, date.timeIntervalSince1970]
            )
        }
        return (token, secret)
    }

    /// The token whose secret this is, or nil.
    public func token(secret: String) async throws -> CacheToken? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM cache_tokens WHERE secret_sha256 = ?",
                arguments: [MessageDigest.sha256Hex(secret)]
            ).map(Self.token)
        }
    }

    /// All tokens, oldest first.
    public func tokens() async throws -> [CacheToken] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM cache_tokens ORDER BY created_at, id").map(Self.token)
        }
    }

    /// Revokes a token; returns whether it existed.
    @discardableResult
    public func revokeToken(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM cache_tokens WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    private static func token(_ row: Row) -> CacheToken {
        CacheToken(
            id: row["id"], namespace: row["namespace"], readOnly: row["read_only"],
            createdAt: Date(timeIntervalSince1970: row["created_at"])
        )
    }
}
