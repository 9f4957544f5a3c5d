import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    public func createToken(
        namespace: String, readOnly: Bool, scopes: Set<TokenScope>, at date: Date
    ) async throws -> (CacheToken, secret: String) {
        try CacheToken.validate(namespace: namespace, scopes: scopes)
        let secret = "cairn_" + SecureRandom.bytes(24).hexString
        let token = CacheToken(
            id: SecureRandom.bytes(6).hexString, namespace: namespace, readOnly: readOnly, scopes: scopes,
            createdAt: date)
        try await client.query(
            """
            INSERT INTO cache_tokens (id, secret_sha256, namespace, read_only, scopes, created_at)
            VALUES (\(token.id), \(MessageDigest.sha256Hex(secret)), \(namespace), \(readOnly),
                    \(TokenScope.text(scopes)), \(date.timeIntervalSince1970))
            """, logger: logger
        )
        return (token, secret)
    }

    /// Asks PostgreSQL every time: a token revoked on any node is refused by every node from the next request.
    public func token(secret: String) async throws -> CacheToken? {
        try await client.query(
            """
            SELECT id, namespace, read_only, scopes, created_at FROM cache_tokens
            WHERE secret_sha256 = \(MessageDigest.sha256Hex(secret))
            """, logger: logger
        ).first.map(Self.token)
    }

    public func tokens() async throws -> [CacheToken] {
        try await client.query(
            "SELECT id, namespace, read_only, scopes, created_at FROM cache_tokens ORDER BY created_at, id",
            logger: logger
        ).map(Self.token)
    }

    @discardableResult
    public func revokeToken(id: String) async throws -> Bool {
        try await !client.query("DELETE FROM cache_tokens WHERE id = \(id) RETURNING 1", logger: logger)
            .isEmpty
    }

    private static func token(_ row: PostgresRow) throws -> CacheToken {
        let (id, namespace, readOnly, names, created) = try row.decode((String, String, Bool, String, Double).self)
        // A scope this version does not know (written by a newer one) grants nothing here.
        return CacheToken(
            id: id, namespace: namespace, readOnly: readOnly,
            scopes: Set(names.split(separator: ",").compactMap { TokenScope(rawValue: String($0)) }),
            createdAt: Date(timeIntervalSince1970: created))
    }
}
