import CairnCore
import CairnTestSupport
import Foundation
import GRDB
import Testing

/// Token scopes as the metadata store keeps them, and the rules for which scopes a token may hold.
@Suite("Token scopes")
struct TokenScopeTests {
    @Test(
        "scopes are stored with the token and read back by secret and in the list", arguments: MetadataBackend.available
    )
    func roundTrip(_ backend: MetadataBackend) async throws {
        try await MetadataStoreTests.withStore(backend) { store in
            let (made, secret) = try await store.createToken(
                namespace: "*", readOnly: false, scopes: [.metrics, .console], at: MetadataStoreTests.date)
            #expect(made.scopes == [.metrics, .console])
            #expect(try await store.token(secret: secret)?.scopes == [.metrics, .console])
            let (plain, plainSecret) = try await store.createToken(namespace: "team-a", readOnly: true)
            #expect(plain.scopes == [.cache])
            #expect(try await store.token(secret: plainSecret)?.scopes == [.cache])
            let listed = try await store.tokens()
            #expect(Set(listed.map(\.scopes)) == [[.metrics, .console], [.cache]])
        }
    }

    @Test("a token row written before scopes existed keeps the cache scope")
    func rowsBeforeScopes() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-token-scopes")
        _ = try SQLiteMetadataStore(dataDirectory: directory.path)
        // As a server without scopes wrote it: no scopes column named.
        let queue = try DatabaseQueue(path: directory.path + "/metadata.sqlite")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO cache_tokens (id, secret_sha256, namespace, read_only, created_at)
                    VALUES ('old1', ?, 'team-old', 0, 1700000000)
                    """, arguments: [MessageDigest.sha256Hex("cairn_old-secret")])
        }
        try queue.close()
        let store = try SQLiteMetadataStore(dataDirectory: directory.path)
        let token = try #require(try await store.token(secret: "cairn_old-secret"))
        #expect(token.scopes == [.cache])
        #expect(token.namespace == "team-old")
    }

    @Test("console and admin need namespace *, a token needs a scope, unknown names are refused")
    func validation() async throws {
        #expect(throws: TokenScopeError.self) { try CacheToken.validate(namespace: "team-a", scopes: [.console]) }
        #expect(throws: TokenScopeError.self) { try CacheToken.validate(namespace: "team-a", scopes: [.admin]) }
        #expect(throws: TokenScopeError.self) { try CacheToken.validate(namespace: "*", scopes: []) }
        try CacheToken.validate(namespace: "team-a", scopes: [.cache, .metrics])
        try CacheToken.validate(namespace: "*", scopes: [.admin])
        #expect(try TokenScope.parse("cache, metrics") == [.cache, .metrics])
        #expect(try TokenScope.parse("ADMIN") == [.admin])
        let error = #expect(throws: TokenScopeError.self) { try TokenScope.parse("cache,superuser") }
        #expect(error?.message.contains("superuser") == true)
        #expect(TokenScope.text([.admin, .cache, .metrics]) == "cache,metrics,admin")
        try await MetadataStoreTests.withStore(.sqlite) { store in
            await #expect(throws: TokenScopeError.self) {
                _ = try await store.createToken(namespace: "team-a", readOnly: false, scopes: [.console])
            }
            let remaining = try await store.tokens()
            #expect(remaining.isEmpty)
        }
    }

    @Test(
        "observations are appended by kind, trimmed to the newest, and read back oldest first",
        arguments: MetadataBackend.available)
    func observations(_ backend: MetadataBackend) async throws {
        try await MetadataStoreTests.withStore(backend) { store in
            let start = MetadataStoreTests.date
            for index in 0..<7 {
                try await store.appendObservation(
                    kind: "a", document: Data("a\(index)".utf8), at: start.addingTimeInterval(Double(index) * 60),
                    keep: 5)
            }
            try await store.appendObservation(kind: "b", document: Data("b0".utf8), at: start, keep: 1)
            try await store.appendObservation(kind: "b", document: Data("b1".utf8), at: start, keep: 1)
            let kept = try await store.observations(kind: "a", since: .distantPast, limit: 100)
            #expect(kept.map { String(decoding: $0.document, as: UTF8.self) } == ["a2", "a3", "a4", "a5", "a6"])
            #expect(kept.first?.date == start.addingTimeInterval(120))
            let recent = try await store.observations(kind: "a", since: start.addingTimeInterval(240), limit: 100)
            #expect(recent.map { String(decoding: $0.document, as: UTF8.self) } == ["a4", "a5", "a6"])
            let newestTwo = try await store.observations(kind: "a", since: .distantPast, limit: 2)
            #expect(newestTwo.map { String(decoding: $0.document, as: UTF8.self) } == ["a5", "a6"])
            let other = try await store.observations(kind: "b", since: .distantPast, limit: 100)
            #expect(other.map { String(decoding: $0.document, as: UTF8.self) } == ["b1"])
        }
    }
}
