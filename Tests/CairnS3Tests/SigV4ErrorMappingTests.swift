import CairnSigV4
import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import CairnS3

/// A refused signature reaches S3 clients as the verifier described it: same code, message, status and details.
@Suite("Signature errors as S3 answers")
struct SigV4ErrorMappingTests {
    @Test("A SigV4Error becomes an S3Error with the same code, message, status and details")
    func mapping() {
        var mismatch = SigV4Error("SignatureDoesNotMatch", "Check your key.", status: 403)
        mismatch.details = [("StringToSign", "s"), ("CanonicalRequest", "c")]
        let forbidden = S3Service.s3Error(for: mismatch)
        #expect(forbidden.code == "SignatureDoesNotMatch")
        #expect(forbidden.message == "Check your key.")
        #expect(forbidden.status == .forbidden)
        #expect(forbidden.status.reasonPhrase == "Forbidden")
        #expect(forbidden.details.map(\.0) == ["StringToSign", "CanonicalRequest"])
        #expect(forbidden.details.map(\.1) == ["s", "c"])

        let malformed = S3Service.s3Error(for: SigV4Error("AuthorizationHeaderMalformed", "bad", status: 400))
        #expect(malformed.code == "AuthorizationHeaderMalformed")
        #expect(malformed.status == .badRequest)
        #expect(malformed.status.reasonPhrase == "Bad Request")
        #expect(malformed.details.isEmpty)
    }

    @Test("A request with a wrong signature gets S3's SignatureDoesNotMatch XML with what was signed")
    func wrongSignatureResponse() async throws {
        let fixture = try ImmediateReadTests.Fixture()
        let answer = try await fixture.respond(ImmediateReadTests.presigned(.get, "/b/k", secret: "other"))
        #expect(answer.status == .forbidden)
        #expect(answer.headers[.contentType] == "application/xml")
        let body = String(buffer: answer.body)
        #expect(body.contains("<Code>SignatureDoesNotMatch</Code>"))
        #expect(
            body.contains(
                "<Message>The request signature we calculated does not match the signature you provided. "
                    + "Check your key and signing method.</Message>"))
        #expect(body.contains("<AWSAccessKeyId>\(ImmediateReadTests.accessKeyID)</AWSAccessKeyId>"))
        #expect(body.contains("<StringToSign>AWS4-HMAC-SHA256\n"))
        #expect(body.contains("<CanonicalRequest>GET\n/b/k\n"))
    }

    @Test("An unsigned request gets S3's AccessDenied XML")
    func anonymousResponse() async throws {
        let fixture = try ImmediateReadTests.Fixture()
        let answer = try await fixture.respond(
            HTTPRequest(method: .get, scheme: nil, authority: ImmediateReadTests.authority, path: "/b/k"))
        #expect(answer.status == .forbidden)
        let body = String(buffer: answer.body)
        #expect(body.contains("<Code>AccessDenied</Code>"))
        #expect(
            body.contains(
                "<Message>Anonymous access is not allowed; sign requests with AWS Signature Version 4</Message>"))
    }
}
