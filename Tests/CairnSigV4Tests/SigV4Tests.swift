import CairnCore
import CairnSigV4
import Foundation
import Testing

/// Tests for ``SigV4Verifier`` and the ``SigV4`` helpers against AWS's published S3 examples.
///
/// The requests and signatures are those of the S3 API reference: "Signature Calculations for the Authorization
/// Header: Transferring Payload in a Single Chunk" (GET Object with a Range, PUT Object `test$file.text`, GET Bucket
/// Lifecycle, GET Bucket list-objects), "Authenticating Requests: Using Query Parameters" (a presigned GET that
/// expires after 86400 s) and "Transferring Payload in Multiple Chunks" (the seed signature of a chunked PUT). Every
/// signature was also recomputed independently with Python's `hmac`/`hashlib` from the canonical requests.
@Suite("SigV4 verification")
struct SigV4Tests {
    static let accessKeyID = "AKIAIOSFODNN7EXAMPLE"
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    /// 20130524T000000Z, the time of every AWS example.
    static let exampleDate = Date(timeIntervalSince1970: 1_369_353_600)
    static let amzDate = "20130524T000000Z"
    static let credential = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
    static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// SHA-256 of "Welcome to Amazon S3.", the PUT example's body.
    static let putBodySHA256 = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"

    /// A verifier whose clock reads `now` and which knows one access key.
    static func verifier(
        now: Date = exampleDate, accessKeyID: String = accessKeyID, secret: String = secret
    ) -> SigV4Verifier {
        SigV4Verifier(now: { now }) { id in id == accessKeyID ? secret : nil }
    }

    static func authorization(signedHeaders: String, signature: String, separator: String = ",") -> String {
        "AWS4-HMAC-SHA256 Credential=\(credential)\(separator)SignedHeaders=\(signedHeaders)"
            + "\(separator)Signature=\(signature)"
    }

    /// The SigV4 error `body` throws, or nil when it throws none (other errors are recorded as issues).
    static func sigV4Error(_ body: () throws -> Void) -> SigV4Error? {
        do {
            try body()
            Issue.record("expected a SigV4Error, but nothing was thrown")
            return nil
        } catch let error as SigV4Error {
            return error
        } catch {
            Issue.record("expected a SigV4Error, got \(error)")
            return nil
        }
    }

    /// One of AWS's Authorization-header examples.
    struct Example: Sendable, CustomTestStringConvertible {
        let name: String
        let request: SignedRequest
        let payloadSHA256: String
        var testDescription: String { name }
    }

    static let getObject = Example(
        name: "GET Object with Range",
        request: SignedRequest(
            method: "GET", path: "/test.txt", query: [],
            headers: [
                "host": "examplebucket.s3.amazonaws.com",
                "range": "bytes=0-9",
                "x-amz-content-sha256": emptySHA256,
                "x-amz-date": amzDate,
                "authorization": authorization(
                    signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
                    signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
                ),
            ]
        ),
        payloadSHA256: emptySHA256
    )

    static let putObject = Example(
        name: "PUT Object test$file.text",
        request: SignedRequest(
            method: "PUT", path: "/test$file.text", query: [],
            headers: [
                "date": "Fri, 24 May 2013 00:00:00 GMT",
                "host": "examplebucket.s3.amazonaws.com",
                "x-amz-content-sha256": putBodySHA256,
                "x-amz-date": amzDate,
                "x-amz-storage-class": "REDUCED_REDUNDANCY",
                "authorization": authorization(
                    signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                    signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
                ),
            ]
        ),
        payloadSHA256: putBodySHA256
    )

    static let getLifecycle = Example(
        name: "GET Bucket lifecycle",
        request: SignedRequest(
            method: "GET", path: "/", query: [("lifecycle", "")],
            headers: [
                "host": "examplebucket.s3.amazonaws.com",
                "x-amz-content-sha256": emptySHA256,
                "x-amz-date": amzDate,
                "authorization": authorization(
                    signedHeaders: "host;x-amz-content-sha256;x-amz-date",
                    signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
                ),
            ]
        ),
        payloadSHA256: emptySHA256
    )

    static let listObjects = Example(
        name: "GET Bucket list-objects max-keys=2&prefix=J",
        request: SignedRequest(
            method: "GET", path: "/", query: [("max-keys", "2"), ("prefix", "J")],
            headers: [
                "host": "examplebucket.s3.amazonaws.com",
                "x-amz-content-sha256": emptySHA256,
                "x-amz-date": amzDate,
                "authorization": authorization(
                    signedHeaders: "host;x-amz-content-sha256;x-amz-date",
                    signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
                ),
            ]
        ),
        payloadSHA256: emptySHA256
    )

    static let headerExamples = [getObject, putObject, getLifecycle, listObjects]

    /// The presigned GET of examplebucket/test.txt, valid for 86400 s.
    static let presignedGet = SignedRequest(
        method: "GET", path: "/test.txt",
        query: [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", credential),
            ("X-Amz-Date", amzDate),
            ("X-Amz-Expires", "86400"),
            ("X-Amz-SignedHeaders", "host"),
            ("X-Amz-Signature", "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"),
        ],
        headers: ["host": "examplebucket.s3.amazonaws.com"]
    )

    /// The chunked PUT of s3.amazonaws.com/examplebucket/chunkObject.txt; its signature is the seed signature.
    static let streamingPut = SignedRequest(
        method: "PUT", path: "/examplebucket/chunkObject.txt", query: [],
        headers: [
            "content-encoding": "aws-chunked",
            "content-length": "66824",
            "host": "s3.amazonaws.com",
            "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "x-amz-date": amzDate,
            "x-amz-decoded-content-length": "66560",
            "x-amz-storage-class": "REDUCED_REDUNDANCY",
            "authorization": authorization(
                signedHeaders:
                    "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                    + "x-amz-decoded-content-length;x-amz-storage-class",
                signature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
            ),
        ]
    )

    // MARK: The published examples verify

    @Test("AWS Authorization-header examples verify", arguments: headerExamples)
    func headerExampleVerifies(_ example: Example) throws {
        let authentication = try Self.verifier().verify(example.request)
        #expect(authentication.accessKeyID == Self.accessKeyID)
        guard case .sha256(let digest) = authentication.payload else {
            Issue.record("expected a SHA-256 payload expectation, got \(authentication.payload)")
            return
        }
        #expect(digest.hexString == example.payloadSHA256)
    }

    @Test("The header may separate its fields with \", \" as in the AWS documentation", arguments: headerExamples)
    func headerWithSpacesVerifies(_ example: Example) throws {
        var request = example.request
        request.headers["authorization"] = request.headers["authorization"]!.replacingOccurrences(
            of: ",", with: ", "
        )
        _ = try Self.verifier().verify(request)
    }

    @Test("The order of the query items does not matter")
    func queryOrderIsCanonicalised() throws {
        var request = Self.listObjects.request
        request.query = [("prefix", "J"), ("max-keys", "2")]
        _ = try Self.verifier().verify(request)
    }

    @Test("Headers that were not signed may be added or changed")
    func unsignedHeadersAreIgnored() throws {
        var request = Self.getObject.request
        request.headers["user-agent"] = "curl/8.0"
        request.headers["content-type"] = "text/plain"
        _ = try Self.verifier().verify(request)
    }

    @Test("Clock differences within 15 minutes are accepted")
    func smallSkewIsAccepted() throws {
        for offset: TimeInterval in [-14 * 60, -1, 1, 14 * 60, 15 * 60] {
            _ = try Self.verifier(now: Self.exampleDate.addingTimeInterval(offset)).verify(Self.getObject.request)
        }
    }

    @Test("AWS presigned GET example verifies, with an unsigned payload")
    func presignedExampleVerifies() throws {
        let authentication = try Self.verifier().verify(Self.presignedGet)
        #expect(authentication.accessKeyID == Self.accessKeyID)
        guard case .unsigned = authentication.payload else {
            Issue.record("expected .unsigned, got \(authentication.payload)")
            return
        }
        // Still valid at the last second of its 86400 s life.
        _ = try Self.verifier(now: Self.exampleDate.addingTimeInterval(86_400)).verify(Self.presignedGet)
        // A presigned URL is not subject to the 15-minute skew rule once it has started.
        _ = try Self.verifier(now: Self.exampleDate.addingTimeInterval(3_600)).verify(Self.presignedGet)
    }

    @Test("AWS chunked-upload seed signature verifies and yields a signing context")
    func streamingSeedVerifies() throws {
        let authentication = try Self.verifier().verify(Self.streamingPut)
        guard case .streaming(let signing, let trailer) = authentication.payload, let signing else {
            Issue.record("expected a signed streaming payload, got \(authentication.payload)")
            return
        }
        #expect(trailer == false)
        #expect(signing.seedSignature == "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
        #expect(signing.amzDate == Self.amzDate)
        #expect(signing.scope == "20130524/us-east-1/s3/aws4_request")
        #expect(
            signing.signingKey
                == SigV4.signingKey(secret: Self.secret, date: "20130524", region: "us-east-1", service: "s3")
        )
    }

    // MARK: Tampered requests are refused

    @Test("A wrong secret gives SignatureDoesNotMatch", arguments: headerExamples)
    func wrongSecret(_ example: Example) {
        let error = Self.sigV4Error { _ = try Self.verifier(secret: "not-the-secret").verify(example.request) }
        #expect(error?.code == "SignatureDoesNotMatch")
        #expect(error?.status == 403)
        // S3 echoes what it signed, which is what clients print to debug a mismatch.
        #expect(error?.details.contains { $0.0 == "StringToSign" } == true)
        #expect(error?.details.contains { $0.0 == "CanonicalRequest" } == true)
    }

    @Test("An unknown access key gives InvalidAccessKeyId", arguments: headerExamples)
    func unknownAccessKey(_ example: Example) {
        let error = Self.sigV4Error { _ = try Self.verifier(accessKeyID: "AKIDSOMEONEELSE").verify(example.request) }
        #expect(error?.code == "InvalidAccessKeyId")
        #expect(error?.status == 403)
    }

    @Test("A clock more than 15 minutes off gives RequestTimeTooSkewed", arguments: [-16.0 * 60, 16.0 * 60, 86_400])
    func skewedClock(_ offset: Double) {
        let verifier = Self.verifier(now: Self.exampleDate.addingTimeInterval(offset))
        let error = Self.sigV4Error { _ = try verifier.verify(Self.getObject.request) }
        #expect(error?.code == "RequestTimeTooSkewed")
        #expect(error?.status == 403)
    }

    @Test("An expired presigned URL gives AccessDenied")
    func expiredPresignedURL() {
        let verifier = Self.verifier(now: Self.exampleDate.addingTimeInterval(86_401))
        let error = Self.sigV4Error { _ = try verifier.verify(Self.presignedGet) }
        #expect(error?.code == "AccessDenied")
    }

    @Test("A presigned URL used long before its date gives AccessDenied")
    func presignedURLFromTheFuture() {
        let verifier = Self.verifier(now: Self.exampleDate.addingTimeInterval(-3_600))
        let error = Self.sigV4Error { _ = try verifier.verify(Self.presignedGet) }
        #expect(error?.code == "AccessDenied")
    }

    @Test("A presigned URL with a wrong secret or an unknown key is refused")
    func presignedWrongSecret() {
        let wrongSecret = Self.sigV4Error { _ = try Self.verifier(secret: "nope").verify(Self.presignedGet) }
        #expect(wrongSecret?.code == "SignatureDoesNotMatch")
        let unknownKey = Self.sigV4Error { _ = try Self.verifier(accessKeyID: "AKIDOTHER").verify(Self.presignedGet) }
        #expect(unknownKey?.code == "InvalidAccessKeyId")
    }

    @Test("A presigned URL whose path or parameters changed is refused")
    func presignedTampered() {
        var otherPath = Self.presignedGet
        otherPath.path = "/test2.txt"
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(otherPath) }?.code == "SignatureDoesNotMatch")

        var longer = Self.presignedGet
        longer.query = longer.query.map { $0.name == "X-Amz-Expires" ? ($0.name, "172800") : $0 }
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(longer) }?.code == "SignatureDoesNotMatch")

        var extra = Self.presignedGet
        extra.query.append(("response-content-type", "text/html"))
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(extra) }?.code == "SignatureDoesNotMatch")
    }

    @Test("A changed signed header value gives SignatureDoesNotMatch")
    func changedHeader() {
        var range = Self.getObject.request
        range.headers["range"] = "bytes=0-10"
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(range) }?.code == "SignatureDoesNotMatch")

        var host = Self.getObject.request
        host.headers["host"] = "otherbucket.s3.amazonaws.com"
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(host) }?.code == "SignatureDoesNotMatch")

        var storageClass = Self.putObject.request
        storageClass.headers["x-amz-storage-class"] = "STANDARD"
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(storageClass) }?.code == "SignatureDoesNotMatch")

        var payload = Self.putObject.request
        payload.headers["x-amz-content-sha256"] = Self.emptySHA256
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(payload) }?.code == "SignatureDoesNotMatch")
    }

    @Test("A changed method, path or query gives SignatureDoesNotMatch")
    func changedRequestLine() {
        var method = Self.getObject.request
        method.method = "HEAD"
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(method) }?.code == "SignatureDoesNotMatch")

        var path = Self.putObject.request
        path.path = "/test%24file.text"  // the encoded form must be decoded before verifying
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(path) }?.code == "SignatureDoesNotMatch")

        var query = Self.listObjects.request
        query.query = [("max-keys", "3"), ("prefix", "J")]
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(query) }?.code == "SignatureDoesNotMatch")
    }

    @Test("A signed header that is missing from the request gives SignatureDoesNotMatch")
    func missingSignedHeader() {
        var request = Self.getObject.request
        request.headers["range"] = nil
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(request) }?.code == "SignatureDoesNotMatch")
    }

    @Test("Unsigned requests are refused with AccessDenied")
    func unsignedRequests() {
        let anonymous = SignedRequest(method: "GET", path: "/test.txt", query: [], headers: ["host": "h"])
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(anonymous) }?.code == "AccessDenied")
    }

    @Test(
        "A malformed credential gives AuthorizationHeaderMalformed",
        arguments: [
            ("/s3/aws4_request", "/aws4_request"),  // four parts
            ("/s3/aws4_request", "/s3/aws4_request/extra"),  // six parts
            ("/s3/aws4_request", "/s3/aws4_request/"),  // an empty sixth part
            ("/s3/aws4_request", "/s3/aws4_requests"),  // not aws4_request
            ("/s3/aws4_request", "/ec2/aws4_request"),  // another service
            ("/20130524/", "/2013052/"),  // a short date
        ])
    func malformedCredential(replacing old: String, with new: String) {
        var request = Self.getObject.request
        request.headers["authorization"] = request.headers["authorization"]!.replacingOccurrences(of: old, with: new)
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(request) }?.code == "AuthorizationHeaderMalformed")
    }

    @Test("A credential date that differs from x-amz-date gives AuthorizationHeaderMalformed")
    func credentialDateMismatch() {
        var request = Self.getObject.request
        request.headers["x-amz-date"] = "20130523T235959Z"
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(request) }?.code == "AuthorizationHeaderMalformed")
    }

    @Test("x-amz-content-sha256 is required and must be a known value or a SHA-256")
    func payloadHashHeader() {
        var missing = Self.getObject.request
        missing.headers["x-amz-content-sha256"] = nil
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(missing) }?.code == "InvalidRequest")

        var invalid = Self.getObject.request
        invalid.headers["x-amz-content-sha256"] = "abc"
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(invalid) }?.code == "InvalidArgument")
    }

    @Test("The host header must be signed")
    func hostMustBeSigned() {
        var request = Self.getObject.request
        request.headers["authorization"] = Self.authorization(
            signedHeaders: "range;x-amz-content-sha256;x-amz-date", signature: String(repeating: "0", count: 64)
        )
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(request) }?.code == "AccessDenied")
    }

    @Test("A presigned URL may live seven days at most, and needs all its parameters")
    func presignedParameters() {
        var tooLong = Self.presignedGet
        tooLong.query = tooLong.query.map { $0.name == "X-Amz-Expires" ? ($0.name, "604801") : $0 }
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(tooLong) }?.code == "AccessDenied")

        var negative = Self.presignedGet
        negative.query = negative.query.map { $0.name == "X-Amz-Expires" ? ($0.name, "-1") : $0 }
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(negative) }?.code == "AccessDenied")

        var noDate = Self.presignedGet
        noDate.query.removeAll { $0.name == "X-Amz-Date" }
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(noDate) }?.code == "AccessDenied")

        var otherAlgorithm = Self.presignedGet
        otherAlgorithm.query = otherAlgorithm.query.map {
            $0.name == "X-Amz-Algorithm" ? ($0.name, "AWS4-ECDSA-P256-SHA256") : $0
        }
        #expect(Self.sigV4Error { _ = try Self.verifier().verify(otherAlgorithm) }?.code == "InvalidArgument")
    }

    // MARK: SigV4 helpers

    @Test(
        "uriEncode escapes everything but unreserved characters",
        arguments: [
            ("test$file.text", false, "test%24file.text"),
            ("a b", false, "a%20b"),
            ("a+b", false, "a%2Bb"),
            ("100%", false, "100%25"),
            ("A-Za-z0-9_.~", false, "A-Za-z0-9_.~"),
            ("*'()!", false, "%2A%27%28%29%21"),
            ("=&?#", false, "%3D%26%3F%23"),
            ("é", false, "%C3%A9"),
            ("日", false, "%E6%97%A5"),
            ("/a/b c/", true, "/a/b%20c/"),
            ("/a/b c/", false, "%2Fa%2Fb%20c%2F"),
            ("", true, ""),
        ]
    )
    func uriEncode(_ input: String, _ keepSlash: Bool, _ expected: String) {
        #expect(SigV4.uriEncode(input, keepSlash: keepSlash) == expected)
    }

    @Test(
        "percentDecode decodes %XX, keeps '+', and rejects malformed escapes",
        arguments: [
            ("plain", "plain"),
            ("", ""),
            ("a%20b", "a b"),
            ("a+b", "a+b"),
            ("a%2Bb", "a+b"),
            ("%C3%A9", "é"),
            ("%c3%a9", "é"),
            ("100%25", "100%"),
            ("test%24file.text", "test$file.text"),
            ("%41", "A"),
            ("%", nil),
            ("%2", nil),
            ("a%4", nil),
            ("%zz", nil),
            ("%G1", nil),
            ("%%41", nil),
            ("%FF", nil),  // not UTF-8
            ("%C3", nil),  // a truncated UTF-8 sequence
        ] as [(String, String?)]
    )
    func percentDecode(_ input: String, _ expected: String?) {
        #expect(SigV4.percentDecode(input) == expected)
    }

    @Test("parseQuery splits and decodes name/value pairs in order")
    func parseQuery() throws {
        func pairs(_ query: String?) -> [String]? {
            SigV4.parseQuery(query).map { $0.map { "\($0.name)=\($0.value)" } }
        }
        #expect(pairs(nil) == [])
        #expect(pairs("") == [])
        let uploads = try #require(SigV4.parseQuery("uploads"))
        #expect(uploads.count == 1)
        #expect(uploads.first?.name == "uploads")
        #expect(uploads.first?.value == "")
        #expect(pairs("uploads=") == ["uploads="])
        #expect(pairs("max-keys=2&prefix=J") == ["max-keys=2", "prefix=J"])
        #expect(pairs("prefix=J&max-keys=2") == ["prefix=J", "max-keys=2"])
        #expect(pairs("partNumber=1&uploadId=abc") == ["partNumber=1", "uploadId=abc"])
        #expect(pairs("prefix=a%2Fb%20c&x=1+2") == ["prefix=a/b c", "x=1+2"])
        #expect(pairs("a=b=c") == ["a=b=c"])
        #expect(pairs("&&delete&") == ["delete="])
        #expect(pairs("a%3Db=1") == ["a=b=1"])
        #expect(pairs("prefix=%zz") == nil)
        #expect(pairs("%=1") == nil)
    }

    @Test("canonicalQuery encodes and sorts by encoded name, then value")
    func canonicalQuery() {
        #expect(SigV4.canonicalQuery([]) == "")
        #expect(SigV4.canonicalQuery([("prefix", "J"), ("max-keys", "2")]) == "max-keys=2&prefix=J")
        #expect(SigV4.canonicalQuery([("lifecycle", "")]) == "lifecycle=")
        #expect(SigV4.canonicalQuery([("uploads", ""), ("prefix", "")]) == "prefix=&uploads=")
        // Same name: sorted by value.
        #expect(SigV4.canonicalQuery([("a", "2"), ("a", "1"), ("a", "10")]) == "a=1&a=10&a=2")
        // By name first, then value: a name that begins another sorts first ("a-b=1&a=2" as whole pairs).
        #expect(SigV4.canonicalQuery([("ab", "3"), ("a-b", "1"), ("a", "2")]) == "a=2&a-b=1&ab=3")
        // Byte order: upper case before lower case.
        #expect(
            SigV4.canonicalQuery([("b", ""), ("X-Amz-Date", "1"), ("a", "")]) == "X-Amz-Date=1&a=&b="
        )
        // Sorted after encoding: "{" encodes to "%7B", which sorts before "a".
        #expect(SigV4.canonicalQuery([("a", "1"), ("{", "2")]) == "%7B=2&a=1")
        // Names and values are encoded, '/' included.
        #expect(
            SigV4.canonicalQuery([("prefix", "a b/c+d"), ("delimiter", "/")])
                == "delimiter=%2F&prefix=a%20b%2Fc%2Bd"
        )
        #expect(
            SigV4.canonicalQuery([
                ("X-Amz-SignedHeaders", "host"), ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                ("X-Amz-Credential", Self.credential), ("X-Amz-Expires", "86400"), ("X-Amz-Date", Self.amzDate),
            ])
                == "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        )
    }

    @Test("The AWS GET Object canonical request and string to sign are reproduced")
    func canonicalRequestOfGetObject() {
        let canonical = SigV4.canonicalRequest(
            method: "GET", canonicalURI: "/test.txt", canonicalQuery: "",
            headers: [
                ("host", "examplebucket.s3.amazonaws.com"), ("range", "bytes=0-9"),
                ("x-amz-content-sha256", Self.emptySHA256), ("x-amz-date", Self.amzDate),
            ],
            payloadHash: Self.emptySHA256
        )
        #expect(
            canonical
                == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:\(Self.emptySHA256)
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                \(Self.emptySHA256)
                """
        )
        let stringToSign = SigV4.stringToSign(
            amzDate: Self.amzDate, scope: "20130524/us-east-1/s3/aws4_request", canonicalRequest: canonical
        )
        #expect(
            stringToSign
                == "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                + "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        )
        let key = SigV4.signingKey(secret: Self.secret, date: "20130524", region: "us-east-1", service: "s3")
        #expect(
            SigV4.signature(of: stringToSign, key: key)
                == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test("canonicalHeaderValue trims and collapses runs of spaces")
    func canonicalHeaderValue() {
        #expect(SigV4.canonicalHeaderValue("  a   b  c ") == "a b c")
        #expect(SigV4.canonicalHeaderValue("a\t\tb") == "a b")
        #expect(SigV4.canonicalHeaderValue("plain") == "plain")
    }
}
