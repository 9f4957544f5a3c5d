import CairnCore
import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import CairnS3

/// Object tagging: Put/Get/DeleteObjectTagging, `x-amz-tagging` on PUT and CreateMultipartUpload, the tagging
/// directive of a copy, and the tag count on reads; and bucket tagging.
@Suite("Object tagging")
struct ObjectTaggingTests {
    typealias Compat = S3CompatibilityTests

    static func tags(_ fixture: ImmediateReadTests.Fixture, _ path: String) async throws -> [String: String] {
        let answer = try await fixture.respond(Compat.request(.get, path, query: [("tagging", "")]))
        #expect(answer.status == .ok, "\(Compat.text(answer))")
        let set = try Compat.xml(answer).child("TagSet")?.children("Tag") ?? []
        return Dictionary(
            uniqueKeysWithValues: set.map { ($0.child("Key")?.text ?? "", $0.child("Value")?.text ?? "") })
    }

    @Test("Tags set on PUT, replaced, read, counted on GET and removed")
    func objectTagging() async throws {
        let fixture = try await Compat.fixture(bucket: "tags")
        let put = try await Compat.put(
            fixture, "/tags/k", "v", headers: ["x-amz-tagging": "release=1.2%2B3&team=build%20tools"])
        #expect(put.status == .ok)
        #expect(try await Self.tags(fixture, "/tags/k") == ["release": "1.2+3", "team": "build tools"])
        let head = try await fixture.respond(Compat.request(.head, "/tags/k"))
        #expect(head.headers[HTTPField.Name("x-amz-tagging-count")!] == "2")

        let body = "<Tagging><TagSet><Tag><Key>keep</Key><Value>forever</Value></Tag></TagSet></Tagging>"
        let replaced = try await fixture.respond(
            Compat.request(.put, "/tags/k", query: [("tagging", "")]), body: ByteBuffer(string: body))
        #expect(replaced.status == .ok, "\(Compat.text(replaced))")
        #expect(try await Self.tags(fixture, "/tags/k") == ["keep": "forever"])
        let read = try await fixture.respond(Compat.request(.get, "/tags/k"))
        #expect(Compat.text(read) == "v")
        #expect(read.headers[.eTag] == put.headers[.eTag])

        let deleted = try await fixture.respond(Compat.request(.delete, "/tags/k", query: [("tagging", "")]))
        #expect(deleted.status == .noContent)
        #expect(try await Self.tags(fixture, "/tags/k").isEmpty)
        let untagged = try await fixture.respond(Compat.request(.head, "/tags/k"))
        #expect(untagged.headers[HTTPField.Name("x-amz-tagging-count")!] == nil)

        let missing = try await fixture.respond(Compat.request(.get, "/tags/none", query: [("tagging", "")]))
        #expect(missing.status == .notFound)
    }

    @Test("Invalid tag sets are refused with InvalidTag, storing nothing")
    func invalidTags() async throws {
        let fixture = try await Compat.fixture(bucket: "badtags")
        let eleven = (0..<11).map { "k\($0)=v" }.joined(separator: "&")
        let tooMany = try await Compat.put(fixture, "/badtags/k", "v", headers: ["x-amz-tagging": eleven])
        #expect(tooMany.status == .badRequest && Compat.text(tooMany).contains("InvalidTag"))
        #expect(try await fixture.respond(Compat.request(.get, "/badtags/k")).status == .notFound)
        let repeated = try await Compat.put(fixture, "/badtags/k", "v", headers: ["x-amz-tagging": "a=1&a=2"])
        #expect(repeated.status == .badRequest)
        let longKey = try await Compat.put(
            fixture, "/badtags/k", "v", headers: ["x-amz-tagging": String(repeating: "k", count: 129) + "=v"])
        #expect(longKey.status == .badRequest)
    }

    @Test("A copy keeps the source's tags, or takes the request's with the REPLACE directive")
    func copyTagging() async throws {
        let fixture = try await Compat.fixture(bucket: "copytags")
        _ = try await Compat.put(fixture, "/copytags/src", "v", headers: ["x-amz-tagging": "a=1"])
        let kept = try await fixture.respond(
            Compat.request(.put, "/copytags/kept", headers: ["x-amz-copy-source": "copytags/src"]))
        #expect(kept.status == .ok)
        #expect(try await Self.tags(fixture, "/copytags/kept") == ["a": "1"])
        let replaced = try await fixture.respond(
            Compat.request(
                .put, "/copytags/replaced",
                headers: [
                    "x-amz-copy-source": "copytags/src", "x-amz-tagging-directive": "REPLACE", "x-amz-tagging": "b=2",
                ]))
        #expect(replaced.status == .ok)
        #expect(try await Self.tags(fixture, "/copytags/replaced") == ["b": "2"])
    }

    @Test("Tags given to CreateMultipartUpload are the completed object's")
    func multipartTagging() async throws {
        let fixture = try await Compat.fixture(bucket: "mputags")
        let upload = try await Compat.createUpload(fixture, "/mputags/k", headers: ["x-amz-tagging": "stage=rc"])
        let etag = try await Compat.uploadPart(fixture, "/mputags/k", upload: upload, number: 1, Array("x".utf8))
        #expect(try await Compat.complete(fixture, "/mputags/k", upload: upload, parts: [(1, etag)]).status == .ok)
        #expect(try await Self.tags(fixture, "/mputags/k") == ["stage": "rc"])
    }

    @Test("A bucket's tag set is stored, read back and deleted; none is NoSuchTagSet")
    func bucketTagging() async throws {
        let fixture = try await Compat.fixture(bucket: "buckettags")
        let none = try await fixture.respond(Compat.request(.get, "/buckettags", query: [("tagging", "")]))
        #expect(none.status == .notFound && Compat.text(none).contains("NoSuchTagSet"))
        let body = "<Tagging><TagSet><Tag><Key>cost-center</Key><Value>ci</Value></Tag></TagSet></Tagging>"
        let put = try await fixture.respond(
            Compat.request(.put, "/buckettags", query: [("tagging", "")]), body: ByteBuffer(string: body))
        #expect(put.status == .noContent, "\(Compat.text(put))")
        #expect(try await Self.tags(fixture, "/buckettags") == ["cost-center": "ci"])
        let deleted = try await fixture.respond(Compat.request(.delete, "/buckettags", query: [("tagging", "")]))
        #expect(deleted.status == .noContent)
        #expect(
            try await fixture.respond(Compat.request(.get, "/buckettags", query: [("tagging", "")])).status == .notFound
        )
        // Not mistaken for CreateBucket: a malformed tag set is MalformedXML about tagging.
        let malformed = try await fixture.respond(
            Compat.request(.put, "/buckettags", query: [("tagging", "")]), body: ByteBuffer(string: "<Tagging/>"))
        #expect(malformed.status == .badRequest && Compat.text(malformed).contains("TagSet"))
    }
}
