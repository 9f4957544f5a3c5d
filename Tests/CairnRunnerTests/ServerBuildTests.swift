import CairnCore
import CairnRunner
import CairnTestSupport
import Foundation
import Testing

/// End to end through a real `cairn serve`: two checkouts ("machines") share phase results through one server.
@Suite("cairn build with a Cairn server")
struct ServerBuildTests {
    static let credentials = StoreCredentials(
        accessKeyID: CairnServerProcess.accessKeyID, secretAccessKey: CairnServerProcess.secretAccessKey
    )

    @Test(.requires("git", "make", "cc"))
    func twoCheckoutsShareHitsThroughOneServer() async throws {
        let server = try CairnServerProcess()
        try server.start()
        defer { server.stop() }
        let store = RemotePhaseStore(endpoint: server.endpoint, credentials: Self.credentials)

        let machineA = try await FixtureProject("c-make")
        let cold = try await machineA.build(store: store) { $0.artifactsDestination = "s3://artifacts/c-make" }
        #expect(cold.result.succeeded, "\(cold.output)\n\(server.log)")
        #expect(cold.result.outcomes.values.allSatisfy { $0 == "MISS" })
        #expect(cold.result.phases.allSatisfy { $0.stored }, "\(cold.output)")

        let machineB = try await FixtureProject("c-make")
        let warm = try await machineB.build(store: store) { $0.artifactsDestination = "s3://artifacts/c-make" }
        #expect(warm.result.succeeded, "\(warm.output)")
        #expect(warm.result.outcomes.values.allSatisfy { $0 == "HIT" }, "\(warm.output)")
        #expect(try machineB.tree() == machineA.tree())
        #expect(
            try await ChildProcess.output(["./build/app"], in: try #require(machineB.workspace)) == "hello, world\n")
        #expect(warm.result.finalEnvironment["APP_VERSION"] == cold.result.finalEnvironment["APP_VERSION"])

        // The artifacts are S3 objects on the server.
        #expect(cold.result.artifactLocations == ["s3://artifacts/c-make/fixture/"])
        let metadata = try SQLiteMetadataStore(dataDirectory: server.dataDirectory.path)
        let app = try await metadata.object(bucket: "artifacts", key: "c-make/fixture/app")
        #expect(app != nil)
        let output = try #require(try await metadata.object(bucket: "artifacts", key: "c-make/fixture/output.txt"))
        #expect(output.size == 13)

        // An edit on one machine is a miss there; the other machine then hits the stored result.
        try machineA.edit("src/greet.c", replacing: "\", world\"", with: "\", server\"")
        let editedA = try await machineA.build(store: store)
        #expect(
            editedA.result.outcomes == ["install": "HIT", "pre_build": "MISS", "build": "MISS", "post_build": "MISS"])
        try machineB.edit("src/greet.c", replacing: "\", world\"", with: "\", server\"")
        let editedB = try await machineB.build(store: store)
        #expect(editedB.result.outcomes.values.allSatisfy { $0 == "HIT" }, "\(editedB.output)")
        #expect(machineB.read("build/output.txt") == "hello, server\n")
    }

    @Test func wrongCredentialsFailWithAClearMessage() async throws {
        let server = try CairnServerProcess()
        try server.start()
        defer { server.stop() }
        let store = RemotePhaseStore(
            endpoint: server.endpoint, credentials: StoreCredentials(accessKeyID: "nobody", secretAccessKey: "wrong")
        )
        do {
            _ = try await store.missing([BlobDigest.empty])
            Issue.record("expected the server to refuse")
        } catch {
            #expect("\(error)".contains("HTTP 40"), "\(error)")
        }
    }
}
