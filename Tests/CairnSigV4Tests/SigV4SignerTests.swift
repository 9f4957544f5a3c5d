import CairnSigV4
import Foundation
import Testing

/// Tests for ``SigV4Signer``: what it signs verifies with ``SigV4Verifier``, and its presigned URLs are AWS's own.
@Suite("SigV4 signing")
struct SigV4SignerTests {
    static let accessKeyID = SigV4Tests.accessKeyID
    static let secret = SigV4Tests.secret
    static let exampleDate = SigV4Tests.exampleDate
    static let signer = SigV4Signer(accessKeyID: accessKeyID, secretAccessKey: secret, region: "us-east-1")

    /// The request a server sees for a path and query that a presigned URL's target names.
    static func request(method: String, target: String, host: String) throws -> SignedRequest {
        let parts = target.split(separator: "?", maxSplits: 1).map(String.init)
        let path = try #require(SigV4.percentDecode(parts[0]))
        let query = try #require(SigV4.parseQuery(parts.count > 1 ? parts[1] : nil))
        return SignedRequest(method: method, path: path, query: query, headers: ["host": host])
    }

    /// The request a server sees for signed headers, as an HTTP client sends them (names in lower case).
    static func request(
        method: String, path: String, query: [(name: String, value: String)] = [], host: String,
        headers: [(name: String, value: String)]
    ) -> SignedRequest {
        var fields = ["host": host, "user-agent": "test"]
        for header in headers { fields[header.name.lowercased()] = header.value }
        return SignedRequest(method: method, path: path, query: query, headers: fields)
    }

    @Test("AWS presigned GET example is reproduced exactly")
    func presignedExample() {
        let target = Self.signer.presignedPath(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", expires: 86400,
            date: Self.exampleDate)
        #expect(
            target
                == "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        )
    }

    @Test("Header signing matches an independent computation (Python's hmac/hashlib) of the same request")
    func headerVector() {
        let headers = Self.signer.headers(
            method: "PUT", host: "127.0.0.1:9000", path: "/examplebucket/a b+c.txt", date: Self.exampleDate)
        #expect(headers.map(\.name) == ["x-amz-content-sha256", "x-amz-date", "authorization"])
        #expect(headers[0].value == "UNSIGNED-PAYLOAD")
        #expect(headers[1].value == "20130524T000000Z")
        #expect(
            headers[2].value
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                + "Signature=c45eb016ef812dadbc03297adda517f5d8da64eae2455107b74166abf8f0265b"
        )
    }

    @Test(
        "Signed headers verify, for paths and queries that need encoding",
        arguments: [
            ("PUT", "/bucket/key", [] as [(String, String)]),
            ("GET", "/bucket/dir/a b+c/ü.txt", []),
            ("PUT", "/bucket", []),
            ("GET", "/bucket", [("list-type", "2"), ("prefix", "a b/c"), ("delimiter", "/")]),
            ("POST", "/bucket/k", [("uploads", "")]),
        ])
    func headerFormVerifies(method: String, path: String, query: [(String, String)]) throws {
        let host = "127.0.0.1:9000"
        let query = query.map { (name: $0.0, value: $0.1) }
        let now = Date()
        let headers = Self.signer.headers(method: method, host: host, path: path, query: query, date: now)
        let verifier = SigV4Verifier(now: { now }) { $0 == Self.accessKeyID ? Self.secret : nil }
        let authentication = try verifier.verify(
            Self.request(method: method, path: path, query: Array(query.reversed()), host: host, headers: headers))
        #expect(authentication.accessKeyID == Self.accessKeyID)
        guard case .unsigned = authentication.payload else {
            Issue.record("expected .unsigned, got \(authentication.payload)")
            return
        }
        // The signature covers the method, the path and the host.
        for tampered in [
            Self.request(method: "DELETE", path: path, query: query, host: host, headers: headers),
            Self.request(method: method, path: path + "x", query: query, host: host, headers: headers),
            Self.request(method: method, path: path, query: query, host: "127.0.0.1:9001", headers: headers),
        ] {
            #expect(throws: SigV4Error.self) { _ = try verifier.verify(tampered) }
        }
    }

    @Test("Presigned paths verify, one timestamp for the whole batch, extra query items signed along")
    func presignedBatchVerifies() throws {
        let host = "127.0.0.1:9000"
        let now = Date()
        let paths = ["/bucket/0", "/bucket/dir/a b+c", "/bucket/ü/%"]
        let targets = Self.signer.presignedPaths(
            method: "GET", host: host, paths: paths, query: [("response-content-type", "text/plain")], expires: 600,
            date: now)
        #expect(targets.count == paths.count)
        let verifier = SigV4Verifier(now: { now.addingTimeInterval(599) }) {
            $0 == Self.accessKeyID ? Self.secret : nil
        }
        var dates: Set<String> = []
        for (path, target) in zip(paths, targets) {
            let request = try Self.request(method: "GET", target: target, host: host)
            #expect(request.path == path)
            #expect(request.query.contains { $0.name == "response-content-type" && $0.value == "text/plain" })
            dates.insert(request.query.first { $0.name == "X-Amz-Date" }?.value ?? "")
            let authentication = try verifier.verify(request)
            #expect(authentication.accessKeyID == Self.accessKeyID)
            guard case .unsigned = authentication.payload else {
                Issue.record("expected .unsigned, got \(authentication.payload)")
                return
            }
            var other = request
            other.method = "PUT"
            #expect(throws: SigV4Error.self) { _ = try verifier.verify(other) }
        }
        #expect(dates == [SigV4.amzDate(now)])
        let expired = SigV4Verifier(now: { now.addingTimeInterval(601) }) { _ in Self.secret }
        let first = try Self.request(method: "GET", target: targets[0], host: host)
        #expect(throws: SigV4Error.self) { _ = try expired.verify(first) }
    }

    @Test("A signer with another secret is refused with SignatureDoesNotMatch")
    func wrongSecret() throws {
        let signer = SigV4Signer(accessKeyID: Self.accessKeyID, secretAccessKey: "not-the-secret")
        let now = Date()
        let verifier = SigV4Verifier(now: { now }) { $0 == Self.accessKeyID ? Self.secret : nil }
        let headers = signer.headers(method: "GET", host: "h", path: "/b/k", date: now)
        let error = SigV4Tests.sigV4Error {
            _ = try verifier.verify(Self.request(method: "GET", path: "/b/k", host: "h", headers: headers))
        }
        #expect(error?.code == "SignatureDoesNotMatch")
        let target = signer.presignedPath(method: "GET", host: "h", path: "/b/k", date: now)
        let presignedError = SigV4Tests.sigV4Error {
            _ = try verifier.verify(Self.request(method: "GET", target: target, host: "h"))
        }
        #expect(presignedError?.code == "SignatureDoesNotMatch")
    }
}
