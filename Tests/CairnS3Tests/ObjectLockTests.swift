import CairnCore
import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import CairnS3

/// Object lock through the S3 service: a bucket created with it, its default retention, per-version retention
/// (GOVERNANCE bypassable, COMPLIANCE not) and legal hold, and a locked version refused to every delete.
@Suite("Object lock")
struct ObjectLockTests {
    typealias Compat = S3CompatibilityTests
    typealias Fixture = ImmediateReadTests.Fixture

    static let versionID = VersioningTests.versionID
    static let bypass = ["x-amz-bypass-governance-retention": "true"]

    /// A fixture with `bucket` created with object lock enabled.
    static func lockedBucket(_ bucket: String) async throws -> Fixture {
        let fixture = try Fixture()
        let created = try await fixture.respond(
            Compat.request(.put, "/\(bucket)", headers: ["x-amz-bucket-object-lock-enabled": "true"]))
        #expect(created.status == .ok, "\(Compat.text(created))")
        return fixture
    }

    static func date(daysFromNow days: Double) -> String {
        S3Format.iso8601(Date().addingTimeInterval(days * 86400))
    }

    /// PUTs `key` with a lock; returns its version id.
    static func putLocked(_ fixture: Fixture, _ path: String, mode: String, days: Double = 1) async throws -> String {
        let put = try await Compat.put(
            fixture, path, "locked",
            headers: [
                "x-amz-object-lock-mode": mode, "x-amz-object-lock-retain-until-date": date(daysFromNow: days),
            ])
        #expect(put.status == .ok, "\(Compat.text(put))")
        return try #require(put.headers[versionID])
    }

    static func deleteVersion(
        _ fixture: Fixture, _ path: String, _ version: String, headers: [String: String] = [:]
    ) async throws -> ImmediateReadTests.Answer {
        try await fixture.respond(Compat.request(.delete, path, query: [("versionId", version)], headers: headers))
    }

    static func setRetention(
        _ fixture: Fixture, _ path: String, mode: String, days: Double, headers: [String: String] = [:]
    ) async throws -> ImmediateReadTests.Answer {
        let body =
            "<Retention><Mode>\(mode)</Mode><RetainUntilDate>\(date(daysFromNow: days))</RetainUntilDate></Retention>"
        return try await fixture.respond(
            Compat.request(.put, path, query: [("retention", "")], headers: headers), body: ByteBuffer(string: body))
    }

    @Test("A bucket created with object lock has versioning, which cannot be suspended, and a default retention")
    func bucketConfiguration() async throws {
        let fixture = try await Self.lockedBucket("lockcfg")
        let versioning = try Compat.xml(
            try await fixture.respond(Compat.request(.get, "/lockcfg", query: [("versioning", "")])))
        #expect(versioning.child("Status")?.text == "Enabled")
        let suspend = try await fixture.respond(
            Compat.request(.put, "/lockcfg", query: [("versioning", "")]),
            body: ByteBuffer(string: "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>"))
        #expect(suspend.status == .conflict && Compat.text(suspend).contains("InvalidBucketState"))

        let body = """
            <ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>\
            <Mode>GOVERNANCE</Mode><Days>2</Days></DefaultRetention></Rule></ObjectLockConfiguration>
            """
        let put = try await fixture.respond(
            Compat.request(.put, "/lockcfg", query: [("object-lock", "")]), body: ByteBuffer(string: body))
        #expect(put.status == .ok, "\(Compat.text(put))")
        let read = try Compat.xml(
            try await fixture.respond(Compat.request(.get, "/lockcfg", query: [("object-lock", "")])))
        #expect(read.child("ObjectLockEnabled")?.text == "Enabled")
        #expect(read.child("Rule")?.child("DefaultRetention")?.child("Days")?.text == "2")

        // A new object gets the default retention, reported on HEAD; deleting its version is refused.
        let beforePut = Date()
        let version = try #require(try await Compat.put(fixture, "/lockcfg/k", "v").headers[Self.versionID])
        let head = try await fixture.respond(Compat.request(.head, "/lockcfg/k"))
        let afterHead = Date()
        #expect(head.headers[HTTPField.Name("x-amz-object-lock-mode")!] == "GOVERNANCE")
        let until = try #require(head.headers[HTTPField.Name("x-amz-object-lock-retain-until-date")!])
        let untilDate = try #require(S3Service.lockDate(until))
        // Two days from when the object was written, somewhere between the PUT's start and the HEAD's answer (the
        // header has whole seconds).
        let window = beforePut.addingTimeInterval(2 * 86400 - 1)...afterHead.addingTimeInterval(2 * 86400 + 1)
        #expect(window.contains(untilDate), "\(untilDate) not in \(window)")
        #expect(try await Self.deleteVersion(fixture, "/lockcfg/k", version).status == .forbidden)
    }

    @Test("Without object lock on the bucket, lock headers and configuration are refused")
    func withoutObjectLock() async throws {
        let fixture = try await Compat.fixture(bucket: "nolock")
        let put = try await Compat.put(
            fixture, "/nolock/k", "v",
            headers: [
                "x-amz-object-lock-mode": "GOVERNANCE",
                "x-amz-object-lock-retain-until-date": Self.date(daysFromNow: 1),
            ])
        #expect(put.status == .badRequest && Compat.text(put).contains("Object Lock"))
        #expect(try await fixture.respond(Compat.request(.get, "/nolock/k")).status == .notFound)
        let body = "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>"
        let configure = try await fixture.respond(
            Compat.request(.put, "/nolock", query: [("object-lock", "")]), body: ByteBuffer(string: body))
        #expect(configure.status == .conflict, "\(Compat.text(configure))")
        let none = try await fixture.respond(Compat.request(.get, "/nolock", query: [("object-lock", "")]))
        #expect(none.status == .notFound && Compat.text(none).contains("ObjectLockConfigurationNotFoundError"))
    }

    @Test("COMPLIANCE: no delete of the version, not even with the bypass; lengthened only; a delete marker is fine")
    func compliance() async throws {
        let fixture = try await Self.lockedBucket("comply")
        let version = try await Self.putLocked(fixture, "/comply/k", mode: "COMPLIANCE", days: 2)
        let refused = try await Self.deleteVersion(fixture, "/comply/k", version, headers: Self.bypass)
        #expect(refused.status == .forbidden && Compat.text(refused).contains("AccessDenied"))
        let shorter = try await Self.setRetention(
            fixture, "/comply/k", mode: "COMPLIANCE", days: 1, headers: Self.bypass)
        #expect(shorter.status == .forbidden)
        let weaker = try await Self.setRetention(
            fixture, "/comply/k", mode: "GOVERNANCE", days: 3, headers: Self.bypass)
        #expect(weaker.status == .forbidden)
        let beforeRetention = Date()
        #expect(try await Self.setRetention(fixture, "/comply/k", mode: "COMPLIANCE", days: 3).status == .ok)
        let retention = try Compat.xml(
            try await fixture.respond(Compat.request(.get, "/comply/k", query: [("retention", "")])))
        let afterRead = Date()
        #expect(retention.child("Mode")?.text == "COMPLIANCE")
        let until = try #require(S3Service.lockDate(retention.child("RetainUntilDate")?.text ?? ""))
        // Three days from when the request was made (whole seconds), however long the requests took.
        let window = beforeRetention.addingTimeInterval(3 * 86400 - 1)...afterRead.addingTimeInterval(3 * 86400 + 1)
        #expect(window.contains(until), "\(until) not in \(window)")

        // Deleting the key only hides the version behind a marker; the version stays readable.
        let marker = try await fixture.respond(Compat.request(.delete, "/comply/k"))
        #expect(marker.status == .noContent)
        let read = try await fixture.respond(Compat.request(.get, "/comply/k", query: [("versionId", version)]))
        #expect(Compat.text(read) == "locked")
        let batch = try Compat.xml(
            try await fixture.respond(
                Compat.request(.post, "/comply", query: [("delete", "")]),
                body: ByteBuffer(
                    string: "<Delete><Object><Key>k</Key><VersionId>\(version)</VersionId></Object></Delete>")))
        #expect(batch.child("Error")?.child("Code")?.text == "AccessDenied")
        #expect(try await fixture.respond(Compat.request(.delete, "/comply")).status == .conflict)
    }

    @Test("GOVERNANCE: a delete or a shorter retention needs x-amz-bypass-governance-retention")
    func governance() async throws {
        let fixture = try await Self.lockedBucket("govern")
        let version = try await Self.putLocked(fixture, "/govern/k", mode: "GOVERNANCE", days: 2)
        #expect(try await Self.deleteVersion(fixture, "/govern/k", version).status == .forbidden)
        #expect(try await Self.setRetention(fixture, "/govern/k", mode: "GOVERNANCE", days: 1).status == .forbidden)
        let shortened = try await Self.setRetention(
            fixture, "/govern/k", mode: "GOVERNANCE", days: 1, headers: Self.bypass)
        #expect(shortened.status == .ok, "\(Compat.text(shortened))")
        let deleted = try await Self.deleteVersion(fixture, "/govern/k", version, headers: Self.bypass)
        #expect(deleted.status == .noContent)
        #expect(
            try await fixture.respond(Compat.request(.get, "/govern/k", query: [("versionId", version)])).status
                == .notFound)
    }

    @Test("A legal hold protects a version from every delete, bypass or not, until it is turned off")
    func legalHold() async throws {
        let fixture = try await Self.lockedBucket("hold")
        let put = try await Compat.put(fixture, "/hold/k", "v", headers: ["x-amz-object-lock-legal-hold": "ON"])
        let version = try #require(put.headers[Self.versionID])
        let status = try Compat.xml(
            try await fixture.respond(Compat.request(.get, "/hold/k", query: [("legal-hold", "")])))
        #expect(status.child("Status")?.text == "ON")
        #expect(try await Self.deleteVersion(fixture, "/hold/k", version, headers: Self.bypass).status == .forbidden)
        let off = try await fixture.respond(
            Compat.request(.put, "/hold/k", query: [("legal-hold", ""), ("versionId", version)]),
            body: ByteBuffer(string: "<LegalHold><Status>OFF</Status></LegalHold>"))
        #expect(off.status == .ok, "\(Compat.text(off))")
        #expect(try await Self.deleteVersion(fixture, "/hold/k", version).status == .noContent)
    }
}
