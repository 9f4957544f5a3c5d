import CairnCore
import CairnRunner
import Foundation
import Testing

/// Phase entries stored by earlier versions of the runner, or damaged, through a whole build.
@Suite("Phase entries of other formats")
struct ManifestUpgradeTests {
    /// A format 2 manifest as runners before format 2 stored it: the changed files as an object of objects.
    static func format1(_ bytes: [UInt8]) throws -> [UInt8] {
        struct NotFormat2: Error {}
        guard var manifest = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            var changes = manifest["changes"] as? [String: Any], let rows = changes["changed"] as? [[Any]]
        else { throw NotFormat2() }
        var files: [String: Any] = [:]
        for row in rows {
            var record: [String: Any] = ["kind": row[1], "mode": row[2], "size": row[4]]
            if !(row[3] is NSNull) { record["digest"] = row[3] }
            if row.count > 5 { record["target"] = row[5] }
            guard let path = row[0] as? String else { throw NotFormat2() }
            files[path] = record
        }
        changes["changed"] = files
        manifest["changes"] = changes
        manifest["formatVersion"] = 1
        return Array(try JSONSerialization.data(withJSONObject: manifest, options: .sortedKeys))
    }

    @Test(.requires("git"))
    func entriesOfFormat1AreStillHits() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        let cold = try await project.build(store: storage.store)
        #expect(cold.result.succeeded, "\(cold.output)")

        let copy = try await FixtureProject("shell-only")
        let older = RewritingStore(base: storage.store, namespace: PhaseManifest.namespace, rewrite: Self.format1)
        let warm = try await copy.build(store: older)
        #expect(warm.result.outcomes == ["install": "HIT", "pre_build": "HIT", "build": "HIT", "post_build": "HIT"])
        #expect(try copy.tree() == project.tree())
    }

    @Test(.requires("git"))
    func anUnreadableEntryIsAMissWithAWarningNamingItsKey() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        let cold = try await project.build(store: storage.store)
        #expect(cold.result.succeeded, "\(cold.output)")

        let copy = try await FixtureProject("shell-only")
        let damaged = RewritingStore(base: storage.store, namespace: PhaseManifest.namespace) { Array($0.prefix(40)) }
        let warm = try await copy.build(store: damaged)
        #expect(warm.result.succeeded, "\(warm.output)")
        #expect(warm.result.outcomes.values.allSatisfy { $0 == "MISS" })
        #expect(warm.output.contains("[cairn] warning: ignoring an unreadable entry for key "))
        #expect(try copy.tree() == project.tree())
    }
}
