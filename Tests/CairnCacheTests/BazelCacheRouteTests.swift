import CairnCache
import CairnCore
import CairnSigV4
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The Bazel remote cache's routes on stores in a temporary directory, sent requests in-process (no server, no
/// socket): what Bazel PUTs to `cas/` comes back byte for byte, and what does not match its digest is not stored.
@Suite("Bazel cache routes")
struct BazelCacheRouteTests {
    static let accessKeyID = "CACHEROOT"
    static let secretAccessKey = "cache-root-secret"

    /// Every cache protocol's routes on a blob store and metadata in `directory`.
    private static func makeApplication(in directory: TemporaryDirectory) throws -> some ApplicationProtocol {
        let blobs = try FileBlobStore(dataDirectory: directory.path)
        let metadata = try SQLiteMetadataStore(dataDirectory: directory.path, blobs: blobs)
        let verifier = SigV4Verifier { $0 == accessKeyID ? secretAccessKey : nil }
        let router = Router(context: BasicRequestContext.self)
        CacheRoutes.register(
            on: router,
            storage: CacheStorage(blobs: blobs, metadata: metadata, accessLog: nil, maximumEntrySize: 1 << 20),
            authenticator: CacheAuthenticator(
                rootAccessKeyID: accessKeyID, rootSecretAccessKey: secretAccessKey, metadata: metadata,
                verifier: verifier)
        )
        return Application(router: router)
    }

    /// HTTP Basic with the root credentials, as Bazel sends them from `--remote_cache=http://id:secret@host/…`.
    static var rootCredentials: HTTPFields {
        [.authorization: "Basic " + Data("\(accessKeyID):\(secretAccessKey)".utf8).base64EncodedString()]
    }

    @Test("a CAS blob PUT under its digest is read back whole, and HEAD gives its size")
    func casRoundTrip() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-cache-routes")
        let content = String(repeating: "bazel action output\n", count: 500)
        let path = "/_cairn/bazel/main/cas/\(MessageDigest.sha256Hex(content))"
        try await Self.makeApplication(in: directory).test(.router) { client in
            let missing = try await client.execute(uri: path, method: .get, headers: Self.rootCredentials)
            #expect(missing.status == .notFound, "nothing is stored yet")
            let put = try await client.execute(
                uri: path, method: .put, headers: Self.rootCredentials, body: ByteBuffer(string: content))
            #expect(put.status == .ok)
            let get = try await client.execute(uri: path, method: .get, headers: Self.rootCredentials)
            #expect(get.status == .ok)
            #expect(String(buffer: get.body) == content)
            let head = try await client.execute(uri: path, method: .head, headers: Self.rootCredentials)
            #expect(head.headers[.contentLength] == String(content.utf8.count))
        }
    }

    @Test("a CAS body that does not hash to the digest in its path is refused and not stored")
    func casDigestMismatch() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-cache-routes")
        let path = "/_cairn/bazel/main/cas/\(MessageDigest.sha256Hex("what the path promises"))"
        try await Self.makeApplication(in: directory).test(.router) { client in
            let put = try await client.execute(
                uri: path, method: .put, headers: Self.rootCredentials, body: ByteBuffer(string: "something else"))
            #expect(put.status == .badRequest)
            #expect(String(buffer: put.body).contains("DigestMismatch"), "\(String(buffer: put.body))")
            let get = try await client.execute(uri: path, method: .get, headers: Self.rootCredentials)
            #expect(get.status == .notFound)
        }
    }

    @Test("requests without credentials, or with a wrong secret, are 401")
    func unauthenticated() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-cache-routes")
        let path = "/_cairn/bazel/main/cas/\(MessageDigest.sha256Hex("x"))"
        let wrong: HTTPFields = [.authorization: "Basic " + Data("\(Self.accessKeyID):nope".utf8).base64EncodedString()]
        try await Self.makeApplication(in: directory).test(.router) { client in
            #expect(try await client.execute(uri: path, method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: path, method: .get, headers: wrong).status == .unauthorized)
            let put = try await client.execute(uri: path, method: .put, headers: wrong, body: ByteBuffer(string: "x"))
            #expect(put.status == .unauthorized)
        }
    }
}
