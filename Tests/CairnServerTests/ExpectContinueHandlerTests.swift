import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import CairnServer

/// ``ExpectContinueHandler`` invites the body of a request that may succeed, and refuses one without credentials
/// before its body is sent.
@Suite("Expect: 100-continue")
struct ExpectContinueHandlerTests {
    static func head(_ path: String, authorization: String? = nil) -> HTTPRequest {
        var fields: HTTPFields = [.expect: "100-continue", .contentLength: "4"]
        if let authorization { fields[.authorization] = authorization }
        return HTTPRequest(method: .put, scheme: nil, authority: "127.0.0.1", path: path, headerFields: fields)
    }

    /// Sends one request with a body through the handler; returns the response parts written and the request parts
    /// passed on.
    static func exchange(_ head: HTTPRequest) throws -> (out: [HTTPResponsePart], passed: [HTTPRequestPart], open: Bool)
    {
        let channel = EmbeddedChannel(handler: ExpectContinueHandler())
        // Connected, so that closing it shows.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9000)).wait()
        try channel.writeInbound(HTTPRequestPart.head(head))
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "body")))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        var out: [HTTPResponsePart] = []
        while let part = try channel.readOutbound(as: HTTPResponsePart.self) { out.append(part) }
        var passed: [HTTPRequestPart] = []
        while let part = try channel.readInbound(as: HTTPRequestPart.self) { passed.append(part) }
        return (out, passed, channel.isActive)
    }

    @Test(
        "A signed request, a presigned one, or one for the cache protocols gets 100 Continue and is passed on",
        arguments: [
            head("/bucket/key", authorization: "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request"),
            head("/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"),
            head("/bucket/key?AWSAccessKeyId=AKID&Signature=abc%3D&Expires=1"),
            head("/_cairn/gradle/team/key"),
        ])
    func invited(_ head: HTTPRequest) throws {
        let (out, passed, open) = try Self.exchange(head)
        guard case .head(let interim) = out.first else {
            Issue.record("no interim response")
            return
        }
        #expect(interim.status == .continue && out.count == 1)
        #expect(passed.count == 3)
        #expect(open)
    }

    @Test("An S3 request with no credentials is refused with 403 before its body, and the connection closes")
    func refused() throws {
        let (out, passed, open) = try Self.exchange(Self.head("/bucket/key?uploads"))
        guard case .head(let response) = out.first, case .body(let body) = out.dropFirst().first else {
            Issue.record("no refusal written: \(out)")
            return
        }
        #expect(response.status == .forbidden)
        #expect(response.headerFields[.connection] == "close")
        #expect(response.headerFields[HTTPField.Name("x-amz-request-id")!] != nil)
        #expect(String(buffer: body).contains("<Code>AccessDenied</Code>"))
        #expect(passed.isEmpty)
        #expect(!open)
    }
}
