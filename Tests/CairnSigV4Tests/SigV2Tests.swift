import CairnCore
import CairnSigV4
import Foundation
import Testing

/// Tests for Signature Version 2 (``SigV4Verifier`` hands it SigV2 requests) and ``SigV2`` against AWS's published Signature Version 2 examples.
///
/// The requests, strings to sign and signatures are those of the S3 documentation "Signing and Authenticating REST
/// Requests" (AWS Signature Version 2): Object GET, Object PUT, List, Fetch (`?acl`), Delete (with `x-amz-date`),
/// Upload (x-amz-* headers, Content-MD5, a CNAME bucket), List all my buckets, Unicode keys, and the query-string
/// example. The documentation has since renamed its bucket from `johnsmith` to `awsexamplebucket1` but kept the
/// signatures, which were computed with `johnsmith`: these tests use the name the signatures were made with (each
/// recomputed independently with Python's `hmac`).
@Suite("SigV2 verification")
struct SigV2Tests {
    static let accessKeyID = "AKIAIOSFODNN7EXAMPLE"
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    static func verifier(now: Date) -> SigV4Verifier {
        SigV4Verifier(now: { now }) { id in id == accessKeyID ? secret : nil }
    }

    static func error(_ body: () throws -> Void) -> SigV4Error? { SigV4Tests.sigV4Error(body) }

    /// One of AWS's Authorization-header examples: the request, its signature, and the time it was made.
    struct Example: Sendable, CustomTestStringConvertible {
        let name: String
        let request: SignedRequest
        let signature: String
        let epoch: TimeInterval
        var testDescription: String { name }

        init(
            _ name: String, _ method: String, resource: String, query: [(name: String, value: String)] = [],
            headers: [String: String], signature: String, epoch: TimeInterval
        ) {
            self.name = name
            var headers = headers
            headers["authorization"] = "AWS \(SigV2Tests.accessKeyID):\(signature)"
            self.request = SignedRequest(
                method: method, path: SigV4.percentDecode(resource) ?? resource, query: query, headers: headers,
                resourcePath: resource)
            self.signature = signature
            self.epoch = epoch
        }
    }

    static let upload = Example(
        "Upload", "PUT", resource: "/static.johnsmith.net/db-backup.dat.gz",
        headers: [
            "host": "static.johnsmith.net:8080", "date": "Tue, 27 Mar 2007 21:06:08 +0000",
            "x-amz-acl": "public-read", "content-type": "application/x-download",
            "content-md5": "4gJE4saaMU4BqNR0kLY+lw==",
            "x-amz-meta-reviewedby": "joe@johnsmith.net,jane@johnsmith.net", "x-amz-meta-filechecksum": "0x02661779",
            "x-amz-meta-checksumalgorithm": "crc32", "content-disposition": "attachment; filename=database.dat",
            "content-encoding": "gzip", "content-length": "5913339",
        ],
        signature: "ilyl83RwaSoYIEdixDQcA4OnAnc=", epoch: 1_175_029_568)

    static let examples: [Example] = [
        Example(
            "Object GET", "GET", resource: "/johnsmith/photos/puppy.jpg",
            headers: ["host": "johnsmith.s3.amazonaws.com", "date": "Tue, 27 Mar 2007 19:36:42 +0000"],
            signature: "bWq2s1WEIj+Ydj0vQ697zp+IXMU=", epoch: 1_175_024_202),
        Example(
            "Object PUT", "PUT", resource: "/johnsmith/photos/puppy.jpg",
            headers: [
                "host": "johnsmith.s3.amazonaws.com", "date": "Tue, 27 Mar 2007 21:15:45 +0000",
                "content-type": "image/jpeg", "content-length": "94328",
            ],
            signature: "MyyxeRY7whkBe+bq8fHCL/2kKUg=", epoch: 1_175_030_145),
        Example(
            "List", "GET", resource: "/johnsmith/",
            query: [("prefix", "photos"), ("max-keys", "50"), ("marker", "puppy")],
            headers: [
                "host": "johnsmith.s3.amazonaws.com", "date": "Tue, 27 Mar 2007 19:42:41 +0000",
                "user-agent": "Mozilla/5.0",
            ],
            signature: "htDYFYduRNen8P9ZfE/s9SuKy0U=", epoch: 1_175_024_561),
        Example(
            "Fetch ?acl", "GET", resource: "/johnsmith/", query: [("acl", "")],
            headers: ["host": "johnsmith.s3.amazonaws.com", "date": "Tue, 27 Mar 2007 19:44:46 +0000"],
            signature: "c2WLPFtWHVgbEmeEG93a4cG37dM=", epoch: 1_175_024_686),
        Example(
            "Delete with x-amz-date", "DELETE", resource: "/johnsmith/photos/puppy.jpg",
            headers: [
                "host": "s3.amazonaws.com", "date": "Tue, 27 Mar 2007 21:20:27 +0000",
                "x-amz-date": "Tue, 27 Mar 2007 21:20:26 +0000", "user-agent": "dotnet",
            ],
            signature: "lx3byBScXR6KzyMaifNkardMwNk=", epoch: 1_175_030_426),
        upload,
        Example(
            "List all my buckets", "GET", resource: "/",
            headers: ["host": "s3.amazonaws.com", "date": "Wed, 28 Mar 2007 01:29:59 +0000"],
            signature: "qGdzdERIC03wnaRNKh6OqZehG9s=", epoch: 1_175_045_399),
        Example(
            "Unicode keys", "GET", resource: "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
            headers: ["host": "s3.amazonaws.com", "date": "Wed, 28 Mar 2007 01:49:49 +0000"],
            signature: "DNEZGsoieTZ92F3bUfSPQcbGmlM=", epoch: 1_175_046_589),
    ]

    @Test("AWS's published Authorization-header examples verify", arguments: examples)
    func publishedExamples(_ example: Example) throws {
        let authentication = try Self.verifier(now: Date(timeIntervalSince1970: example.epoch)).verify(example.request)
        #expect(authentication.accessKeyID == Self.accessKeyID)
    }

    @Test("The Upload example's string to sign is the published one")
    func uploadStringToSign() {
        let headers = Self.upload.request.headers.map { (name: $0.key, value: $0.value) }
        let stringToSign = SigV2.stringToSign(
            method: "PUT", contentMD5: "4gJE4saaMU4BqNR0kLY+lw==", contentType: "application/x-download",
            date: "Tue, 27 Mar 2007 21:06:08 +0000", amzHeaders: SigV2.canonicalAmzHeaders(headers),
            resource: "/static.johnsmith.net/db-backup.dat.gz")
        #expect(
            stringToSign == """
                PUT
                4gJE4saaMU4BqNR0kLY+lw==
                application/x-download
                Tue, 27 Mar 2007 21:06:08 +0000
                x-amz-acl:public-read
                x-amz-meta-checksumalgorithm:crc32
                x-amz-meta-filechecksum:0x02661779
                x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net
                /static.johnsmith.net/db-backup.dat.gz
                """)
        #expect(SigV2.signature(of: stringToSign, secret: Self.secret) == "ilyl83RwaSoYIEdixDQcA4OnAnc=")
    }

    @Test("The canonical resource keeps the signed sub-resources, sorted, and drops the rest")
    func canonicalResource() {
        let query: [(name: String, value: String)] = [
            ("uploadId", "abc"), ("max-parts", "10"), ("partNumber", "3"), ("versions", ""),
            ("response-content-type", "text/plain"),
        ]
        #expect(
            SigV2.canonicalResource(path: "/b/k", query: query)
                == "/b/k?partNumber=3&response-content-type=text/plain&uploadId=abc&versions")
        #expect(SigV2.canonicalResource(path: "/b/", query: [("prefix", "a"), ("marker", "m")]) == "/b/")
    }

    static let presigned = SignedRequest(
        method: "GET", path: "/johnsmith/photos/puppy.jpg",
        query: [
            ("AWSAccessKeyId", accessKeyID), ("Signature", "NpgCjnDzrM+WFzoENXmpNDUsSn8="), ("Expires", "1175139620"),
        ],
        headers: ["host": "johnsmith.s3.amazonaws.com"], resourcePath: "/johnsmith/photos/puppy.jpg")

    @Test("AWS's published query-string example verifies until it expires, then is refused")
    func presignedExample() throws {
        let before = Date(timeIntervalSince1970: 1_175_139_620)
        #expect(try Self.verifier(now: before).verify(Self.presigned).accessKeyID == Self.accessKeyID)
        let after = Date(timeIntervalSince1970: 1_175_139_621)
        let expired = Self.error { _ = try Self.verifier(now: after).verify(Self.presigned) }
        #expect(expired?.code == "AccessDenied")
        #expect(expired?.message == "Request has expired")
    }

    @Test("A presigned URL's x-amz-* query parameters and Content-Type are signed as botocore signs them")
    func presignedWithQueryHeaders() throws {
        let expires = "1175139620"
        let stringToSign = "PUT\n\ntext/plain\n\(expires)\nx-amz-meta-owner:ci\n/bucket/key"
        var request = SignedRequest(
            method: "PUT", path: "/bucket/key",
            query: [
                ("AWSAccessKeyId", Self.accessKeyID),
                ("Signature", SigV2.signature(of: stringToSign, secret: Self.secret)), ("Expires", expires),
                ("content-type", "text/plain"), ("x-amz-meta-owner", "ci"),
            ],
            headers: ["host": "h"], resourcePath: "/bucket/key")
        let verifier = Self.verifier(now: Date(timeIntervalSince1970: 1_175_139_000))
        _ = try verifier.verify(request)
        request.query[4].value = "someone-else"
        #expect(Self.error { _ = try verifier.verify(request) }?.code == "SignatureDoesNotMatch")
    }

    @Test("A changed request, a skewed or missing date and an unknown key are refused with S3's codes")
    func refusals() throws {
        let example = Self.examples[0]
        let now = Date(timeIntervalSince1970: example.epoch)

        var changed = example.request
        changed.resourcePath = "/johnsmith/photos/kitten.jpg"
        let mismatch = Self.error { _ = try Self.verifier(now: now).verify(changed) }
        #expect(mismatch?.code == "SignatureDoesNotMatch")
        #expect(mismatch?.status == 403)
        #expect(
            mismatch?.details.first { $0.0 == "StringToSign" }?.1
                == "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/kitten.jpg")

        var signedSubresource = Self.examples[3].request
        signedSubresource.query = [("acl", ""), ("uploadId", "1")]
        let acl = Date(timeIntervalSince1970: Self.examples[3].epoch)
        #expect(
            Self.error { _ = try Self.verifier(now: acl).verify(signedSubresource) }?.code == "SignatureDoesNotMatch")

        let skewed = Self.error {
            _ = try Self.verifier(now: now.addingTimeInterval(15 * 60 + 1)).verify(example.request)
        }
        #expect(skewed?.code == "RequestTimeTooSkewed")

        var undated = example.request
        undated.headers["date"] = nil
        #expect(Self.error { _ = try Self.verifier(now: now).verify(undated) }?.code == "AccessDenied")

        var stranger = example.request
        stranger.headers["authorization"] = "AWS AKIDUNKNOWN:\(example.signature)"
        #expect(Self.error { _ = try Self.verifier(now: now).verify(stranger) }?.code == "InvalidAccessKeyId")

        var malformed = example.request
        malformed.headers["authorization"] = "AWS \(Self.accessKeyID)"
        #expect(Self.error { _ = try Self.verifier(now: now).verify(malformed) }?.code == "InvalidArgument")
    }
}
