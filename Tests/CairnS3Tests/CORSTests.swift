import CairnCore
import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import CairnS3

/// CORS: Put/Get/DeleteBucketCors, the unauthenticated preflight, and the headers on a browser's requests.
@Suite("CORS")
struct CORSTests {
    typealias Compat = S3CompatibilityTests

    static let configuration = """
        <CORSConfiguration>
          <CORSRule><ID>site</ID><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>\
        <AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader>\
        <ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>
          <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule>
        </CORSConfiguration>
        """

    /// An unauthenticated preflight, as a browser sends it.
    static func preflight(_ path: String, origin: String, method: String, headers: String? = nil) -> HTTPRequest {
        var fields: HTTPFields = [.origin: origin, .accessControlRequestMethod: method]
        if let headers { fields[.accessControlRequestHeaders] = headers }
        return HTTPRequest(
            method: .options, scheme: nil, authority: ImmediateReadTests.authority, path: path, headerFields: fields)
    }

    @Test("The configuration is stored, read back and deleted")
    func configurationRoundTrip() async throws {
        let fixture = try await Compat.fixture(bucket: "cors-conf")
        let none = try await fixture.respond(Compat.request(.get, "/cors-conf", query: [("cors", "")]))
        #expect(none.status == .notFound && Compat.text(none).contains("NoSuchCORSConfiguration"))
        let put = try await fixture.respond(
            Compat.request(.put, "/cors-conf", query: [("cors", "")]), body: ByteBuffer(string: Self.configuration))
        #expect(put.status == .ok, "\(Compat.text(put))")
        let root = try Compat.xml(try await fixture.respond(Compat.request(.get, "/cors-conf", query: [("cors", "")])))
        let rules = root.children("CORSRule")
        #expect(rules.count == 2)
        #expect(rules.first?.child("ID")?.text == "site")
        #expect(rules.first?.children("AllowedMethod").map(\.text) == ["GET", "PUT"])
        #expect(rules.first?.child("MaxAgeSeconds")?.text == "600")
        let deleted = try await fixture.respond(Compat.request(.delete, "/cors-conf", query: [("cors", "")]))
        #expect(deleted.status == .noContent)
        #expect(
            try await fixture.respond(Compat.request(.get, "/cors-conf", query: [("cors", "")])).status == .notFound)

        let bad =
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>"
        let refused = try await fixture.respond(
            Compat.request(.put, "/cors-conf", query: [("cors", "")]), body: ByteBuffer(string: bad))
        #expect(refused.status == .badRequest)
    }

    @Test("Preflights are answered without credentials by the first rule that allows them, 403 otherwise")
    func preflights() async throws {
        let fixture = try await Compat.fixture(bucket: "cors-pre")
        let before = try await fixture.respond(
            Self.preflight("/cors-pre/k", origin: "https://a.example.com", method: "GET"))
        #expect(before.status == .forbidden, "no configuration yet")
        _ = try await fixture.respond(
            Compat.request(.put, "/cors-pre", query: [("cors", "")]), body: ByteBuffer(string: Self.configuration))

        let allowed = try await fixture.respond(
            Self.preflight(
                "/cors-pre/k", origin: "https://a.example.com", method: "PUT", headers: "content-type, x-amz-date"))
        #expect(allowed.status == .ok)
        #expect(allowed.headers[.accessControlAllowOrigin] == "https://a.example.com")
        #expect(allowed.headers[.accessControlAllowMethods] == "GET, PUT")
        #expect(allowed.headers[.accessControlAllowHeaders] == "content-type, x-amz-date")
        #expect(allowed.headers[.accessControlExposeHeaders] == "ETag")
        #expect(allowed.headers[.accessControlMaxAge] == "600")
        #expect(allowed.headers[.vary] == "Origin")

        let anyOrigin = try await fixture.respond(
            Self.preflight("/cors-pre/k", origin: "https://other.test", method: "HEAD"))
        #expect(anyOrigin.status == .ok && anyOrigin.headers[.accessControlAllowOrigin] == "*")
        for request in [
            Self.preflight("/cors-pre/k", origin: "https://other.test", method: "GET"),
            Self.preflight("/cors-pre/k", origin: "https://a.example.com", method: "DELETE"),
            Self.preflight("/cors-pre/k", origin: "https://a.example.com", method: "GET", headers: "authorization"),
        ] {
            #expect(try await fixture.respond(request).status == .forbidden)
        }
        var incomplete = Self.preflight("/cors-pre/k", origin: "https://a.example.com", method: "GET")
        incomplete.headerFields[.accessControlRequestMethod] = nil
        #expect(try await fixture.respond(incomplete).status == .badRequest)
    }

    @Test("A browser's request that a rule allows gets the Access-Control headers; others do not")
    func actualRequests() async throws {
        let fixture = try await Compat.fixture(bucket: "cors-get")
        _ = try await Compat.put(fixture, "/cors-get/k", "v")
        _ = try await fixture.respond(
            Compat.request(.put, "/cors-get", query: [("cors", "")]), body: ByteBuffer(string: Self.configuration))
        let allowed = try await fixture.respond(
            Compat.request(.get, "/cors-get/k", headers: ["origin": "https://a.example.com"]))
        #expect(Compat.text(allowed) == "v")
        #expect(allowed.headers[.accessControlAllowOrigin] == "https://a.example.com")
        #expect(allowed.headers[.accessControlExposeHeaders] == "ETag")
        let other = try await fixture.respond(
            Compat.request(.get, "/cors-get/k", headers: ["origin": "https://evil.test"]))
        #expect(other.status == .ok && other.headers[.accessControlAllowOrigin] == nil)
        #expect(
            fixture.immediate(Compat.request(.get, "/cors-get/k", headers: ["origin": "https://a.example.com"])) == nil)
    }
}
