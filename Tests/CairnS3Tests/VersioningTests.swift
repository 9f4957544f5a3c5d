import CairnCore
import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import CairnS3

/// Versioning through the S3 service: version ids on writes, reads and deletes by version, delete markers, the
/// `null` version while suspended, ListObjectVersions and its pages, copies and batch deletes by version.
@Suite("Versioning")
struct VersioningTests {
    typealias Compat = S3CompatibilityTests
    typealias Answer = ImmediateReadTests.Answer

    static let versionID = HTTPField.Name("x-amz-version-id")!
    static let deleteMarker = HTTPField.Name("x-amz-delete-marker")!

    /// A fixture with `bucket` created and its versioning set to `status`.
    static func fixture(bucket: String, status: String = "Enabled") async throws -> ImmediateReadTests.Fixture {
        let fixture = try await Compat.fixture(bucket: bucket)
        try await setVersioning(fixture, bucket, status)
        return fixture
    }

    static func setVersioning(_ fixture: ImmediateReadTests.Fixture, _ bucket: String, _ status: String) async throws {
        let answer = try await fixture.respond(
            Compat.request(.put, "/\(bucket)", query: [("versioning", "")]),
            body: ByteBuffer(string: "<VersioningConfiguration><Status>\(status)</Status></VersioningConfiguration>"))
        #expect(answer.status == .ok, "\(Compat.text(answer))")
    }

    static func get(_ fixture: ImmediateReadTests.Fixture, _ path: String, version: String? = nil) async throws
        -> Answer
    {
        try await fixture.respond(Compat.request(.get, path, query: version.map { [("versionId", $0)] } ?? []))
    }

    /// The `(key, version id, is latest, is delete marker)` of every entry of a ListObjectVersions page.
    static func versions(_ root: XMLNode) -> [(String, String, Bool, Bool)] {
        root.children.filter { $0.name == "Version" || $0.name == "DeleteMarker" }.map {
            (
                $0.child("Key")?.text ?? "", $0.child("VersionId")?.text ?? "", $0.child("IsLatest")?.text == "true",
                $0.name == "DeleteMarker"
            )
        }
    }

    @Test("GetBucketVersioning reports nothing, then Enabled, then Suspended")
    func bucketVersioningState() async throws {
        let fixture = try await Compat.fixture(bucket: "state")
        let none = try Compat.xml(
            try await fixture.respond(Compat.request(.get, "/state", query: [("versioning", "")])))
        #expect(none.child("Status") == nil)
        for status in ["Enabled", "Suspended"] {
            try await Self.setVersioning(fixture, "state", status)
            let read = try Compat.xml(
                try await fixture.respond(Compat.request(.get, "/state", query: [("versioning", "")])))
            #expect(read.child("Status")?.text == status)
        }
        let bad = try await fixture.respond(
            Compat.request(.put, "/state", query: [("versioning", "")]),
            body: ByteBuffer(string: "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>"))
        #expect(bad.status == .badRequest && Compat.text(bad).contains("MalformedXML"))
    }

    @Test("Each PUT makes a version; every version stays readable by id; the latest is the object")
    func versionsKept() async throws {
        let fixture = try await Self.fixture(bucket: "kept")
        let first = try await Compat.put(fixture, "/kept/k", "one")
        let second = try await Compat.put(fixture, "/kept/k", "two")
        let one = try #require(first.headers[Self.versionID])
        let two = try #require(second.headers[Self.versionID])
        #expect(one != two && one != "null")
        #expect(Compat.text(try await Self.get(fixture, "/kept/k")) == "two")
        let old = try await Self.get(fixture, "/kept/k", version: one)
        #expect(Compat.text(old) == "one" && old.headers[Self.versionID] == one)
        let head = try await fixture.respond(Compat.request(.head, "/kept/k", query: [("versionId", one)]))
        #expect(head.status == .ok && head.headers[.contentLength] == "3")
        let missing = try await Self.get(fixture, "/kept/k", version: "0123456789abcdef0123456789abcdef")
        #expect(missing.status == .notFound && Compat.text(missing).contains("NoSuchVersion"))
    }

    @Test("A cached read on the event loop answers a versioned object as the normal path does, version id and all")
    func immediateReadOfAVersion() async throws {
        let fixture = try await Self.fixture(bucket: "fast")
        let version = try #require(try await Compat.put(fixture, "/fast/k", "v").headers[Self.versionID])
        let normal = try await fixture.respond(Compat.request(.get, "/fast/k"))
        #expect(normal.headers[Self.versionID] == version)
        let fast = try #require(fixture.immediate(Compat.request(.get, "/fast/k")))
        #expect(fast == normal)
    }

    @Test("DELETE adds a delete marker: GET is 404 with x-amz-delete-marker; deleting the marker brings it back")
    func deleteMarkers() async throws {
        let fixture = try await Self.fixture(bucket: "markers")
        let put = try await Compat.put(fixture, "/markers/k", "v")
        let version = try #require(put.headers[Self.versionID])
        let deleted = try await fixture.respond(Compat.request(.delete, "/markers/k"))
        #expect(deleted.status == .noContent && deleted.headers[Self.deleteMarker] == "true")
        let marker = try #require(deleted.headers[Self.versionID])
        let gone = try await Self.get(fixture, "/markers/k")
        #expect(gone.status == .notFound && gone.headers[Self.deleteMarker] == "true")
        #expect(gone.headers[Self.versionID] == marker)
        #expect(Compat.text(try await Self.get(fixture, "/markers/k", version: version)) == "v")
        let byMarker = try await Self.get(fixture, "/markers/k", version: marker)
        #expect(byMarker.status == .methodNotAllowed && byMarker.headers[Self.deleteMarker] == "true")
        let listed = try Compat.xml(try await fixture.respond(Compat.request(.get, "/markers", query: [])))
        #expect(listed.children("Contents").isEmpty)

        let undelete = try await fixture.respond(
            Compat.request(.delete, "/markers/k", query: [("versionId", marker)]))
        #expect(undelete.status == .noContent && undelete.headers[Self.deleteMarker] == "true")
        #expect(Compat.text(try await Self.get(fixture, "/markers/k")) == "v")
        // Deleting the version itself leaves nothing at all.
        let purge = try await fixture.respond(Compat.request(.delete, "/markers/k", query: [("versionId", version)]))
        #expect(purge.status == .noContent && purge.headers[Self.versionID] == version)
        let root = try Compat.xml(
            try await fixture.respond(Compat.request(.get, "/markers", query: [("versions", "")])))
        #expect(Self.versions(root).isEmpty)
        // Now empty of versions, the bucket can be deleted.
        #expect(try await fixture.respond(Compat.request(.delete, "/markers")).status == .noContent)
    }

    @Test("Deleting the current version makes the previous one current")
    func deleteCurrentVersion() async throws {
        let fixture = try await Self.fixture(bucket: "previous")
        _ = try await Compat.put(fixture, "/previous/k", "one")
        let second = try #require(try await Compat.put(fixture, "/previous/k", "two").headers[Self.versionID])
        let deleted = try await fixture.respond(Compat.request(.delete, "/previous/k", query: [("versionId", second)]))
        #expect(deleted.status == .noContent && deleted.headers[Self.deleteMarker] == nil)
        #expect(Compat.text(try await Self.get(fixture, "/previous/k")) == "one")
    }

    @Test("Suspended: writes replace the null version and keep the versions made while enabled")
    func suspendedNullVersion() async throws {
        let fixture = try await Compat.fixture(bucket: "nulls")
        _ = try await Compat.put(fixture, "/nulls/k", "before")
        try await Self.setVersioning(fixture, "nulls", "Enabled")
        let enabled = try #require(try await Compat.put(fixture, "/nulls/k", "enabled").headers[Self.versionID])
        // The object written before versioning is the null version, kept.
        #expect(Compat.text(try await Self.get(fixture, "/nulls/k", version: "null")) == "before")
        try await Self.setVersioning(fixture, "nulls", "Suspended")
        let first = try await Compat.put(fixture, "/nulls/k", "suspended 1")
        #expect(first.headers[Self.versionID] == "null")
        _ = try await Compat.put(fixture, "/nulls/k", "suspended 2")
        #expect(Compat.text(try await Self.get(fixture, "/nulls/k", version: "null")) == "suspended 2")
        #expect(Compat.text(try await Self.get(fixture, "/nulls/k", version: enabled)) == "enabled")
        var root = try Compat.xml(try await fixture.respond(Compat.request(.get, "/nulls", query: [("versions", "")])))
        #expect(Self.versions(root).map(\.1) == ["null", enabled])
        // A delete while suspended replaces the null version with a null delete marker.
        let deleted = try await fixture.respond(Compat.request(.delete, "/nulls/k"))
        #expect(deleted.headers[Self.versionID] == "null" && deleted.headers[Self.deleteMarker] == "true")
        root = try Compat.xml(try await fixture.respond(Compat.request(.get, "/nulls", query: [("versions", "")])))
        #expect(Self.versions(root).map { "\($0.1) \($0.2) \($0.3)" } == ["null true true", "\(enabled) false false"])
    }

    @Test("ListObjectVersions: by key, newest first, with prefix, delimiter and pages of key and version markers")
    func listVersions() async throws {
        let fixture = try await Self.fixture(bucket: "list")
        var ids: [String: [String]] = [:]
        for key in ["a", "b", "dir/x", "dir/y", "c"] {
            for round in 0..<2 {
                let answer = try await Compat.put(fixture, "/list/\(key)", "\(key)\(round)")
                ids[key, default: []].insert(try #require(answer.headers[Self.versionID]), at: 0)
            }
        }
        _ = try await fixture.respond(Compat.request(.delete, "/list/c"))
        let all = try Compat.xml(try await fixture.respond(Compat.request(.get, "/list", query: [("versions", "")])))
        let entries = Self.versions(all)
        #expect(entries.map(\.0) == ["a", "a", "b", "b", "c", "c", "c", "dir/x", "dir/x", "dir/y", "dir/y"])
        #expect(Array(entries.map(\.1)[0..<2]) == ids["a"]!)
        #expect(entries.map(\.2) == [true, false, true, false, true, false, false, true, false, true, false])
        #expect(entries[4].3 && !entries[5].3)
        #expect(all.children("Version").first?.child("ETag") != nil)

        let grouped = try Compat.xml(
            try await fixture.respond(
                Compat.request(.get, "/list", query: [("versions", ""), ("delimiter", "/"), ("prefix", "")])))
        #expect(grouped.children("CommonPrefixes").compactMap { $0.child("Prefix")?.text } == ["dir/"])
        #expect(Set(Self.versions(grouped).map(\.0)) == ["a", "b", "c"])

        // Pages of three, resuming mid-key with the version marker, list everything once, in order.
        var paged: [String] = []
        var markers: (String, String?)?
        for _ in 0..<20 {
            var query = [("versions", ""), ("max-keys", "3")]
            if let markers {
                query.append(("key-marker", markers.0))
                if let version = markers.1 { query.append(("version-id-marker", version)) }
            }
            let page = try Compat.xml(try await fixture.respond(Compat.request(.get, "/list", query: query)))
            paged += Self.versions(page).map { "\($0.0)@\($0.1)" }
            guard page.child("IsTruncated")?.text == "true" else { break }
            markers = (
                try #require(page.child("NextKeyMarker")?.text), page.child("NextVersionIdMarker")?.text
            )
        }
        #expect(paged == entries.map { "\($0.0)@\($0.1)" })
        let prefixed = try Compat.xml(
            try await fixture.respond(Compat.request(.get, "/list", query: [("versions", ""), ("prefix", "dir/")])))
        #expect(Self.versions(prefixed).map(\.0) == ["dir/x", "dir/x", "dir/y", "dir/y"])
    }

    @Test("CopyObject from a version, DeleteObjects by VersionId, and a completed multipart upload is a version")
    func copyBatchDeleteAndMultipart() async throws {
        let fixture = try await Self.fixture(bucket: "more")
        let old = try #require(try await Compat.put(fixture, "/more/src", "old").headers[Self.versionID])
        _ = try await Compat.put(fixture, "/more/src", "new")
        let copy = try await fixture.respond(
            Compat.request(.put, "/more/restored", headers: ["x-amz-copy-source": "more/src?versionId=\(old)"]))
        #expect(copy.status == .ok, "\(Compat.text(copy))")
        #expect(copy.headers[HTTPField.Name("x-amz-copy-source-version-id")!] == old)
        #expect(copy.headers[Self.versionID] != nil && copy.headers[Self.versionID] != old)
        #expect(Compat.text(try await Self.get(fixture, "/more/restored")) == "old")
        // Copying an older version onto its own key restores it as the newest.
        let restore = try await fixture.respond(
            Compat.request(.put, "/more/src", headers: ["x-amz-copy-source": "more/src?versionId=\(old)"]))
        #expect(restore.status == .ok, "\(Compat.text(restore))")
        #expect(Compat.text(try await Self.get(fixture, "/more/src")) == "old")

        let body = """
            <Delete><Object><Key>src</Key><VersionId>\(old)</VersionId></Object><Object><Key>restored</Key></Object>
            </Delete>
            """
        let batch = try Compat.xml(
            try await fixture.respond(
                Compat.request(.post, "/more", query: [("delete", "")]), body: .init(string: body))
        )
        let results = batch.children("Deleted")
        #expect(results.count == 2)
        #expect(results[0].child("VersionId")?.text == old && results[0].child("DeleteMarker") == nil)
        #expect(results[1].child("DeleteMarker")?.text == "true" && results[1].child("DeleteMarkerVersionId") != nil)
        #expect(try await Self.get(fixture, "/more/src", version: old).status == .notFound)
        #expect(try await Self.get(fixture, "/more/restored").status == .notFound)

        let upload = try await Compat.createUpload(fixture, "/more/mpu")
        let etag = try await Compat.uploadPart(fixture, "/more/mpu", upload: upload, number: 1, Array("x".utf8))
        let done = try await Compat.complete(fixture, "/more/mpu", upload: upload, parts: [(1, etag)])
        let version = try #require(done.headers[Self.versionID])
        #expect(Compat.text(try await Self.get(fixture, "/more/mpu", version: version)) == "x")
    }

    @Test("A bucket that never had versioning keeps one null version and answers as before")
    func unversionedBucket() async throws {
        let fixture = try await Compat.fixture(bucket: "plain")
        let put = try await Compat.put(fixture, "/plain/k", "v")
        #expect(put.headers[Self.versionID] == nil)
        _ = try await Compat.put(fixture, "/plain/k", "w")
        let root = try Compat.xml(try await fixture.respond(Compat.request(.get, "/plain", query: [("versions", "")])))
        #expect(Self.versions(root).map { "\($0.0) \($0.1) \($0.2)" } == ["k null true"])
        let deleted = try await fixture.respond(Compat.request(.delete, "/plain/k"))
        #expect(deleted.status == .noContent && deleted.headers[Self.deleteMarker] == nil)
        let after = try Compat.xml(try await fixture.respond(Compat.request(.get, "/plain", query: [("versions", "")])))
        #expect(Self.versions(after).isEmpty)
    }
}
