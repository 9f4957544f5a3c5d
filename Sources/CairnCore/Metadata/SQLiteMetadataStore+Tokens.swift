import Foundation
import GRDB

extension SQLiteMetadataStore {
    /// Creates a token and returns it with its secret (which is not stored and cannot be shown again).
    public func createToken(
        namespace: String, readOnly: Bool, scopes: Set<TokenScope>, at date: Date
    ) async throws -> (CacheToken, secret: String) {
        try CacheToken.validate(namespace: namespace, scopes: scopes)
        let secret = "cairn_" + SecureRandom.bytes(24).hexString
        let token = CacheToken(
            id: SecureRandom.bytes(6).hexString, namespace: namespace, readOnly: readOnly, scopes: scopes,
            createdAt: date)
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO cache_tokens (id, secret_sha256, namespace, read_only, scopes, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    token.id, MessageDigest.sha256Hex(secret), namespace, readOnly, TokenScope.text(scopes),
                    date.timeIntervalSince1970,
                ]
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
        // A scope this version does not know (written by a newer one) grants nothing here.
        let names: String = row["scopes"]
        return CacheToken(
            id: row["id"], namespace: row["namespace"], readOnly: row["read_only"],
            scopes: Set(names.split(separator: ",").compactMap { TokenScope(rawValue: String($0)) }),
            createdAt: Date(timeIntervalSince1970: row["created_at"])
        )
    }
}
