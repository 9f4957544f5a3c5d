import CairnCore
import CairnSigV4
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

@testable import CairnS3

/// Edge cases where Cairn must answer as S3 does, each once found answering otherwise: listings, multipart
/// retries, part reads, conditional deletes, refused features and Signature Version 2 through the service.
@Suite("S3 compatibility")
struct S3CompatibilityTests {
    typealias Fixture = ImmediateReadTests.Fixture

    static func request(
        _ method: HTTPRequest.Method, _ path: String, query: [(String, String)] = [], headers: [String: String] = [:]
    ) -> HTTPRequest {
        var fields = HTTPFields()
        for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return ImmediateReadTests.presigned(method, path, query: query, headers: fields)
    }

    static func xml(_ answer: ImmediateReadTests.Answer) throws -> XMLNode {
        try XMLNode.parse(Data(answer.body.readableBytesView))
    }

    static func text(_ answer: ImmediateReadTests.Answer) -> String {
        String(decoding: answer.body.readableBytesView, as: UTF8.self)
    }

    /// A fixture with `bucket` created.
    static func fixture(bucket: String) async throws -> Fixture {
        let fixture = try Fixture()
        #expect(try await fixture.respond(request(.put, "/\(bucket)")).status == .ok)
        return fixture
    }

    static func put(_ fixture: Fixture, _ path: String, _ body: String, headers: [String: String] = [:]) async throws
        -> ImmediateReadTests.Answer
    {
        try await fixture.respond(request(.put, path, headers: headers), body: ByteBuffer(string: body))
    }

    @Test("ListObjects v1 resumes after a common prefix given back as Marker, without repeating it")
    func listV1CommonPrefixMarker() async throws {
        let fixture = try await Self.fixture(bucket: "list-v1")
        for key in ["a/1", "a/2", "b/1", "b/2", "c"] { _ = try await Self.put(fixture, "/list-v1/\(key)", key) }
        var names: [String] = []
        var marker: String?
        for _ in 0..<10 {
            var query = [("delimiter", "/"), ("max-keys", "1")]
            if let marker { query.append(("marker", marker)) }
            let root = try Self.xml(try await fixture.respond(Self.request(.get, "/list-v1", query: query)))
            names += root.children("CommonPrefixes").compactMap { $0.child("Prefix")?.text }
            names += root.children("Contents").compactMap { $0.child("Key")?.text }
            guard root.child("IsTruncated")?.text == "true" else { break }
            marker = try #require(root.child("NextMarker")?.text)
        }
        #expect(names == ["a/", "b/", "c"])
    }

    @Test("ListObjects v1 with encoding-type=url leaves Prefix as asked (v2 encodes it)")
    func listV1EncodedPrefix() async throws {
        let fixture = try await Self.fixture(bucket: "list-enc")
        _ = try await Self.put(fixture, "/list-enc/a b/c", "x")
        let v1 = try Self.xml(
            try await fixture.respond(
                Self.request(.get, "/list-enc", query: [("prefix", "a b/"), ("encoding-type", "url")])))
        #expect(v1.child("Prefix")?.text == "a b/")
        #expect(v1.child("Contents")?.child("Key")?.text == "a%20b/c")
        let v2 = try Self.xml(
            try await fixture.respond(
                Self.request(
                    .get, "/list-enc", query: [("list-type", "2"), ("prefix", "a b/"), ("encoding-type", "url")])))
        #expect(v2.child("Prefix")?.text == "a%20b/")
    }

    static func createUpload(_ fixture: Fixture, _ path: String, headers: [String: String] = [:]) async throws
        -> String
    {
        let answer = try await fixture.respond(Self.request(.post, path, query: [("uploads", "")], headers: headers))
        #expect(answer.status == .ok, "\(Self.text(answer))")
        return try #require(try Self.xml(answer).child("UploadId")?.text)
    }

    static func uploadPart(
        _ fixture: Fixture, _ path: String, upload: String, number: Int, _ body: [UInt8],
        headers: [String: String] = [:]
    ) async throws -> String {
        let answer = try await fixture.respond(
            Self.request(.put, path, query: [("partNumber", "\(number)"), ("uploadId", upload)], headers: headers),
            body: ByteBuffer(bytes: body))
        #expect(answer.status == .ok, "\(Self.text(answer))")
        return try #require(answer.headers[.eTag])
    }

    static func complete(
        _ fixture: Fixture, _ path: String, upload: String, parts: [(Int, String)], headers: [String: String] = [:]
    ) async throws -> ImmediateReadTests.Answer {
        let list = parts.map { "<Part><PartNumber>\($0.0)</PartNumber><ETag>\($0.1)</ETag></Part>" }.joined()
        return try await fixture.respond(
            Self.request(.post, path, query: [("uploadId", upload)], headers: headers),
            body: ByteBuffer(string: "<CompleteMultipartUpload>\(list)</CompleteMultipartUpload>"))
    }

    static let partOne = [UInt8](repeating: 1, count: 5 * 1024 * 1024)
    static let partTwo = [UInt8](repeating: 2, count: 1000)

    /// Uploads ``partOne`` and ``partTwo`` as a multipart object at `path`; returns its ETag as Complete gave it.
    static func twoPartObject(_ fixture: Fixture, _ path: String) async throws -> String {
        let upload = try await Self.createUpload(fixture, path)
        let one = try await Self.uploadPart(fixture, path, upload: upload, number: 1, Self.partOne)
        let two = try await Self.uploadPart(fixture, path, upload: upload, number: 2, Self.partTwo)
        let done = try await Self.complete(fixture, path, upload: upload, parts: [(1, one), (2, two)])
        #expect(done.status == .ok, "\(Self.text(done))")
        return try #require(try Self.xml(done).child("ETag")?.text)
    }

    @Test("A repeated Complete answers as the first did; a part listed twice is taken as its latest upload")
    func completeRetried() async throws {
        let fixture = try await Self.fixture(bucket: "mpu")
        let upload = try await Self.createUpload(fixture, "/mpu/obj")
        let stale = try await Self.uploadPart(fixture, "/mpu/obj", upload: upload, number: 1, Self.partOne)
        let fresh = try await Self.uploadPart(fixture, "/mpu/obj", upload: upload, number: 1, Self.partTwo)
        let first = try await Self.complete(fixture, "/mpu/obj", upload: upload, parts: [(1, stale), (1, fresh)])
        #expect(first.status == .ok, "\(Self.text(first))")
        let etag = try Self.xml(first).child("ETag")?.text
        let again = try await Self.complete(fixture, "/mpu/obj", upload: upload, parts: [(1, stale), (1, fresh)])
        #expect(again.status == .ok, "\(Self.text(again))")
        #expect(try Self.xml(again).child("ETag")?.text == etag)
        let read = try await fixture.respond(Self.request(.get, "/mpu/obj"))
        #expect(Array(read.body.readableBytesView) == Self.partTwo)
        // Only for its own key, and only while the object is the one it made.
        let elsewhere = try await Self.complete(fixture, "/mpu/other", upload: upload, parts: [(1, fresh)])
        #expect(elsewhere.status == .notFound)
        _ = try await Self.put(fixture, "/mpu/obj", "replaced")
        let replaced = try await Self.complete(fixture, "/mpu/obj", upload: upload, parts: [(1, fresh)])
        #expect(replaced.status == .notFound && Self.text(replaced).contains("NoSuchUpload"))
    }

    @Test("GET and HEAD with partNumber answer that part, with Content-Range and the part count; 416 past the last")
    func partNumberReads() async throws {
        let fixture = try await Self.fixture(bucket: "parts")
        _ = try await Self.twoPartObject(fixture, "/parts/obj")
        let size = Self.partOne.count + Self.partTwo.count
        let second = try await fixture.respond(Self.request(.get, "/parts/obj", query: [("partNumber", "2")]))
        #expect(second.status == .partialContent)
        #expect(Array(second.body.readableBytesView) == Self.partTwo)
        #expect(second.headers[.contentRange] == "bytes \(Self.partOne.count)-\(size - 1)/\(size)")
        #expect(second.headers[HTTPField.Name("x-amz-mp-parts-count")!] == "2")
        let head = try await fixture.respond(Self.request(.head, "/parts/obj", query: [("partNumber", "1")]))
        #expect(head.status == .partialContent)
        #expect(head.headers[.contentLength] == String(Self.partOne.count))
        let missing = try await fixture.respond(Self.request(.get, "/parts/obj", query: [("partNumber", "3")]))
        #expect(missing.status == .rangeNotSatisfiable && Self.text(missing).contains("InvalidPartNumber"))

        _ = try await Self.put(fixture, "/parts/single", "whole")
        let single = try await fixture.respond(Self.request(.get, "/parts/single", query: [("partNumber", "1")]))
        #expect(single.status == .partialContent && Self.text(single) == "whole")
        let beyond = try await fixture.respond(Self.request(.get, "/parts/single", query: [("partNumber", "2")]))
        #expect(beyond.status == .rangeNotSatisfiable)
    }

    @Test("UploadPartCopy of a range past the source's end is 400 InvalidRange")
    func uploadPartCopyRange() async throws {
        let fixture = try await Self.fixture(bucket: "copyrange")
        _ = try await Self.put(fixture, "/copyrange/src", "0123456789")
        let upload = try await Self.createUpload(fixture, "/copyrange/dst")
        func copy(_ range: String) async throws -> ImmediateReadTests.Answer {
            try await fixture.respond(
                Self.request(
                    .put, "/copyrange/dst", query: [("partNumber", "1"), ("uploadId", upload)],
                    headers: ["x-amz-copy-source": "copyrange/src", "x-amz-copy-source-range": range]))
        }
        let beyond = try await copy("bytes=5-10")
        #expect(beyond.status == .badRequest && Self.text(beyond).contains("InvalidRange"))
        #expect(try await copy("bytes=5-9").status == .ok)
    }

    @Test("Sub-resources Cairn does not implement answer 501, never another operation's error")
    func unimplementedSubresources() async throws {
        let fixture = try await Self.fixture(bucket: "subres")
        _ = try await Self.put(fixture, "/subres/k", "v")
        let website = try await fixture.respond(
            Self.request(.put, "/subres", query: [("website", "")]),
            body: ByteBuffer(
                string:
                    "<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument></WebsiteConfiguration>"
            ))
        #expect(website.status.code == 501 && Self.text(website).contains("NotImplemented"))
        for (method, path, name) in [
            (HTTPRequest.Method.post, "/subres/k", "restore"), (.post, "/subres", "select"),
            (.delete, "/subres", "versioning"), (.get, "/subres/k", "acl"),
        ] {
            let answer = try await fixture.respond(Self.request(method, path, query: [(name, "")]))
            #expect(answer.status.code == 501, "\(method) ?\(name): \(Self.text(answer))")
        }
        let version = try await fixture.respond(Self.request(.get, "/subres/k", query: [("versionId", "abc")]))
        #expect(version.status == .notFound && Self.text(version).contains("NoSuchVersion"))
        #expect(
            try await fixture.respond(Self.request(.get, "/subres/k", query: [("versionId", "null")])).status == .ok)
    }

    @Test("Server-side encryption is refused on PUT, copy and CreateMultipartUpload, and nothing is stored")
    func encryptionRefused() async throws {
        let fixture = try await Self.fixture(bucket: "sse")
        _ = try await Self.put(fixture, "/sse/plain", "v")
        let requests: [(HTTPRequest, String)] = [
            (Self.request(.put, "/sse/a", headers: ["x-amz-server-side-encryption": "AES256"]), "PUT SSE-S3"),
            (
                Self.request(.put, "/sse/a", headers: ["x-amz-server-side-encryption": "aws:kms"]),
                "PUT SSE-KMS"
            ),
            (
                Self.request(
                    .put, "/sse/a",
                    headers: [
                        "x-amz-server-side-encryption-customer-algorithm": "AES256",
                        "x-amz-server-side-encryption-customer-key": Data(repeating: 7, count: 32)
                            .base64EncodedString(),
                    ]), "PUT SSE-C"
            ),
            (
                Self.request(
                    .put, "/sse/a",
                    headers: ["x-amz-copy-source": "sse/plain", "x-amz-server-side-encryption": "AES256"]), "copy"
            ),
            (
                Self.request(
                    .post, "/sse/a", query: [("uploads", "")], headers: ["x-amz-server-side-encryption": "AES256"]),
                "CreateMultipartUpload"
            ),
        ]
        for (request, name) in requests {
            let answer = try await fixture.respond(request, body: ByteBuffer(string: "secret"))
            #expect(answer.status.code == 501 && Self.text(answer).contains("NotImplemented"), "\(name)")
        }
        #expect(try await fixture.respond(Self.request(.get, "/sse/a")).status == .notFound)
    }

    @Test("DeleteObject with a non-matching If-Match is 412; DeleteObjects checks each object's ETag")
    func conditionalDeletes() async throws {
        let fixture = try await Self.fixture(bucket: "del")
        let etag = try #require(try await Self.put(fixture, "/del/k", "v").headers[.eTag])
        let wrong = try await fixture.respond(Self.request(.delete, "/del/k", headers: ["if-match": "\"0000\""]))
        #expect(wrong.status == .preconditionFailed)
        #expect(try await fixture.respond(Self.request(.get, "/del/k")).status == .ok)
        #expect(
            try await fixture.respond(Self.request(.delete, "/del/k", headers: ["if-match": etag])).status == .noContent
        )
        #expect(try await fixture.respond(Self.request(.get, "/del/k")).status == .notFound)

        let first = try #require(try await Self.put(fixture, "/del/a", "a").headers[.eTag])
        _ = try await Self.put(fixture, "/del/b", "b")
        let body = """
            <Delete><Object><Key>a</Key><ETag>\(first)</ETag></Object>\
            <Object><Key>b</Key><ETag>"ffff"</ETag></Object></Delete>
            """
        let answer = try await fixture.respond(
            Self.request(.post, "/del", query: [("delete", "")]), body: ByteBuffer(string: body))
        let root = try Self.xml(answer)
        #expect(root.children("Deleted").compactMap { $0.child("Key")?.text } == ["a"])
        #expect(root.child("Error")?.child("Key")?.text == "b")
        #expect(root.child("Error")?.child("Code")?.text == "PreconditionFailed")
        #expect(try await fixture.respond(Self.request(.get, "/del/b")).status == .ok)
    }

    @Test("ListBuckets pages with max-buckets and continuation-token")
    func listBucketsPages() async throws {
        let fixture = try Fixture()
        for name in ["page-a", "page-b", "page-c"] {
            #expect(try await fixture.respond(Self.request(.put, "/\(name)")).status == .ok)
        }
        var names: [String] = []
        var token: String?
        for _ in 0..<5 {
            var query = [("max-buckets", "2")]
            if let token { query.append(("continuation-token", token)) }
            let root = try Self.xml(try await fixture.respond(Self.request(.get, "/", query: query)))
            let page = root.child("Buckets")?.children("Bucket").compactMap { $0.child("Name")?.text } ?? []
            #expect(page.count <= 2)
            names += page
            token = root.child("ContinuationToken")?.text
            if token == nil { break }
        }
        #expect(names == ["page-a", "page-b", "page-c"])
    }

    @Test("Complete refuses a wrong whole-object SHA-256 and reports the COMPOSITE checksum type")
    func completeChecksum() async throws {
        let fixture = try await Self.fixture(bucket: "mpusum")
        let upload = try await Self.createUpload(
            fixture, "/mpusum/obj", headers: ["x-amz-checksum-algorithm": "SHA256"])
        let checksums = [Self.partOne, Self.partTwo].map { ChecksumAlgorithm.sha256.checksum(of: $0) }
        let one = try await Self.uploadPart(
            fixture, "/mpusum/obj", upload: upload, number: 1, Self.partOne,
            headers: ["x-amz-checksum-sha256": checksums[0]])
        let two = try await Self.uploadPart(
            fixture, "/mpusum/obj", upload: upload, number: 2, Self.partTwo,
            headers: ["x-amz-checksum-sha256": checksums[1]])
        let parts = [(1, one), (2, two)]
        let wrong = ChecksumAlgorithm.sha256.checksum(of: Array("not it".utf8))
        let refused = try await Self.complete(
            fixture, "/mpusum/obj", upload: upload, parts: parts, headers: ["x-amz-checksum-sha256": wrong])
        #expect(refused.status == .badRequest && Self.text(refused).contains("BadDigest"))
        let composite = ChecksumAlgorithm.sha256.checksum(
            of: checksums.flatMap { Array(Data(base64Encoded: $0)!) })
        let done = try await Self.complete(
            fixture, "/mpusum/obj", upload: upload, parts: parts,
            headers: ["x-amz-checksum-sha256": "\(composite)-2"])
        #expect(done.status == .ok, "\(Self.text(done))")
        let root = try Self.xml(done)
        #expect(root.child("ChecksumSHA256")?.text == "\(composite)-2")
        #expect(root.child("ChecksumType")?.text == "COMPOSITE")
    }

    @Test("Content-Encoding is kept as sent")
    func contentEncodingKept() async throws {
        let fixture = try await Self.fixture(bucket: "enc")
        _ = try await Self.put(fixture, "/enc/k", "v", headers: ["content-encoding": "deflate, gzip"])
        let read = try await fixture.respond(Self.request(.head, "/enc/k"))
        #expect(read.headers[.contentEncoding] == "deflate, gzip")
    }

    @Test("Signature Version 2 through the service: presigned GET of an encoded key, header-signed PUT")
    func signatureVersion2() async throws {
        let fixture = try await Self.fixture(bucket: "sigv2")
        _ = try await Self.put(fixture, "/sigv2/dir/a b+c", "version two")
        let expires = String(Int(Date().timeIntervalSince1970) + 3600)
        let path = "/sigv2/dir/a%20b%2Bc"
        let signature = SigV2.signature(
            of: "GET\n\n\n\(expires)\n\(path)", secret: ImmediateReadTests.secret)
        let query = [
            ("AWSAccessKeyId", ImmediateReadTests.accessKeyID), ("Signature", signature), ("Expires", expires),
        ]
        let target =
            path + "?" + query.map { "\($0.0)=\(SigV4.uriEncode($0.1, keepSlash: false))" }.joined(separator: "&")
        let get = HTTPRequest(method: .get, scheme: nil, authority: ImmediateReadTests.authority, path: target)
        let read = try await fixture.respond(get)
        #expect(read.status == .ok && Self.text(read) == "version two", "\(Self.text(read))")

        let date = S3Format.httpDate(Date())
        let stringToSign = "PUT\n\ntext/plain\n\(date)\nx-amz-meta-owner:ci\n/sigv2/put"
        var fields = HTTPFields()
        fields[.contentType] = "text/plain"
        fields[.date] = date
        fields[HTTPField.Name("x-amz-meta-owner")!] = "ci"
        fields[.authorization] =
            "AWS \(ImmediateReadTests.accessKeyID):\(SigV2.signature(of: stringToSign, secret: ImmediateReadTests.secret))"
        let put = HTTPRequest(
            method: .put, scheme: nil, authority: ImmediateReadTests.authority, path: "/sigv2/put", headerFields: fields
        )
        #expect(try await fixture.respond(put, body: ByteBuffer(string: "x")).status == .ok)
        fields[HTTPField.Name("x-amz-meta-owner")!] = "someone else"
        let forged = HTTPRequest(
            method: .put, scheme: nil, authority: ImmediateReadTests.authority, path: "/sigv2/put", headerFields: fields
        )
        let refused = try await fixture.respond(forged, body: ByteBuffer(string: "x"))
        #expect(refused.status == .forbidden && Self.text(refused).contains("SignatureDoesNotMatch"))
    }

    @Test("GetObjectAttributes answers the attributes asked for, parts by number and size")
    func objectAttributes() async throws {
        let fixture = try await Self.fixture(bucket: "attrs")
        let etag = try await Self.twoPartObject(fixture, "/attrs/obj")
        let answer = try await fixture.respond(
            Self.request(
                .get, "/attrs/obj", query: [("attributes", "")],
                headers: [
                    "x-amz-object-attributes": "ETag,ObjectParts,ObjectSize,StorageClass", "x-amz-max-parts": "1",
                ]))
        #expect(answer.status == .ok, "\(Self.text(answer))")
        let root = try Self.xml(answer)
        #expect(root.name == "GetObjectAttributesResponse")
        #expect(root.child("ETag")?.text == S3Format.unquoted(etag))
        #expect(root.child("ObjectSize")?.text == String(Self.partOne.count + Self.partTwo.count))
        #expect(root.child("StorageClass")?.text == "STANDARD")
        let parts = try #require(root.child("ObjectParts"))
        #expect(parts.child("PartsCount")?.text == "2")
        #expect(parts.child("IsTruncated")?.text == "true")
        #expect(parts.children("Part").map { $0.child("Size")?.text } == [String(Self.partOne.count)])
        #expect(root.child("Checksum") == nil)

        let missing = try await fixture.respond(
            Self.request(.get, "/attrs/none", query: [("attributes", "")], headers: ["x-amz-object-attributes": "ETag"])
        )
        #expect(missing.status == .notFound)
        let unknown = try await fixture.respond(
            Self.request(.get, "/attrs/obj", query: [("attributes", "")], headers: ["x-amz-object-attributes": "Owner"])
        )
        #expect(unknown.status == .badRequest)
    }
}
