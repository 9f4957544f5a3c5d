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

    @Test(.requires("git"))
    func wrongCredentialsSayWrongCredentialsAndRunNothing() async throws {
        let server = try CairnServerProcess()
        try server.start()
        defer { server.stop() }
        let file = FileManager.default.temporaryDirectory.path + "/cairn-artifact-\(UUID().uuidString)"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let wrongSecret = StoreCredentials(accessKeyID: CairnServerProcess.accessKeyID, secretAccessKey: "wrong")
        let unknownKey = StoreCredentials(accessKeyID: "nobody", secretAccessKey: "wrong")
        // The runner API (HTTP Basic, 401) and S3 (SigV4: SignatureDoesNotMatch, InvalidAccessKeyId; 403).
        let calls: [(String, @Sendable (RemotePhaseStore) async throws -> Void)] = [
            ("missing", { _ = try await $0.missing([BlobDigest.empty]) }),
            ("putObject", { _ = try await $0.putObject(bucket: "artifacts", key: "x", file: file, metadata: [:]) }),
        ]
        for credentials in [wrongSecret, unknownKey] {
            let store = RemotePhaseStore(endpoint: server.endpoint, credentials: credentials)
            for (name, call) in calls {
                do {
                    try await call(store)
                    Issue.record("expected the server to refuse \(name)")
                } catch let error as RunnerError {
                    #expect(error.kind == .wrongCredentials, "\(name): \(error)")
                    #expect(error.description.hasPrefix("wrong credentials for \(server.endpoint)"), "\(error)")
                    #expect(!error.description.contains("no credentials"), "\(error)")
                }
            }
        }

        // A build with them stops before its first command.
        let project = try await FixtureProject("shell-only")
        let store = RemotePhaseStore(endpoint: server.endpoint, credentials: wrongSecret)
        let error = await #expect(throws: RunnerError.self) { try await project.build(store: store) }
        #expect(error?.kind == .wrongCredentials)
        #expect(project.read("out/install.txt") == nil)
    }

    @Test(.requires("git"))
    func anUnreachableStoreBuildsUncachedAndFailsOnlyTheArtifactUpload() async throws {
        // Nothing listens on port 1 of the loopback address: the connection is refused at once.
        let store = RemotePhaseStore(endpoint: "http://127.0.0.1:1", credentials: Self.credentials)
        let project = try await FixtureProject("shell-only")
        let start = Date()
        let (result, output) = try await project.build(store: store)
        // A refused connection is not retried until the request's ten-minute deadline (a loaded machine can stretch
        // the build itself to a minute or two, so the bound only tells the two behaviours apart).
        #expect(Date().timeIntervalSince(start) < 400)
        #expect(result.succeeded, "\(output)")
        #expect(result.outcomes.values.allSatisfy { $0 == "DISABLED" }, "\(output)")
        #expect(project.read("out/summary.txt") == "done sorted-3\n")
        let warnings = output.split(separator: "\n").filter { $0.contains("warning") }
        #expect(warnings.count == 1, "\(output)")
        #expect(warnings.first?.contains("cannot reach the store at http://127.0.0.1:1") == true, "\(output)")

        try project.write(
            "buildspec.yml",
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi > hi.txt\nartifacts:\n  files: [hi.txt]\n"
        )
        let (withArtifacts, artifactOutput) = try await project.build(store: store)
        #expect(!withArtifacts.succeeded, "\(artifactOutput)")
        #expect(withArtifacts.phase(.build)?.status == .succeeded)
        #expect(artifactOutput.contains("[cairn] artifact primary failed: cannot reach the store"), "\(artifactOutput)")
    }
}
