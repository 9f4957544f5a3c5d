import CairnCore
import CairnRunner
import CairnTestSupport
import Foundation
import Testing

/// Secrets, credentials, run-as and the CODEBUILD_* variables.
@Suite("Build environment")
struct EnvironmentTests {
    @Test(.requires("git"))
    func codebuildVariablesSecretsAndHashFiles() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            env:
              variables:
                PLAIN: "$PATH:/x"
              parameter-store:
                DB_PASSWORD: /prod/db/password
              secrets-manager:
                TOKEN: deploy-token:value
            phases:
              build:
                commands:
                  - env | grep '^CODEBUILD_' | sort > codebuild.txt
                  - printf '%s\\n' "$PLAIN" "$DB_PASSWORD" "$TOKEN" > values.txt
                  - codebuild-hash-files 'data/*.txt' > hash.txt
            """
        )
        let secrets = FileManager.default.temporaryDirectory.path + "/cairn-secrets-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: secrets) }
        try "# test secrets\n/prod/db/password=hunter2\nTOKEN=abc\n".write(
            toFile: secrets, atomically: true, encoding: .utf8)
        let (result, output) = try await project.build(store: storage.store) {
            $0.secrets = try! SecretsFile.load(path: secrets)
        }
        #expect(result.succeeded, "\(output)")
        #expect(project.read("values.txt") == "$PATH:/x\nhunter2\nabc\n")
        let variables = try #require(project.read("codebuild.txt"))
        for name in [
            "CODEBUILD_SRC_DIR=/codebuild/output/src\n", "CODEBUILD_BUILD_NUMBER=1", "CODEBUILD_BUILD_SUCCEEDING=1",
            "CODEBUILD_BUILD_ID=fixture:", "CODEBUILD_START_TIME=", "CODEBUILD_INITIATOR=cairn/",
            "CODEBUILD_RESOLVED_SOURCE_VERSION=",
        ] {
            #expect(variables.contains(name), "\(name) missing from \(variables)")
        }
        #expect(project.read("hash.txt")?.count == 65)
        // The secret's value changes the key (through its hash) but never appears in the store's history.
        let changed = try await project.build(store: storage.store) {
            $0.secrets = ["/prod/db/password": "other", "TOKEN": "abc"]
        }
        #expect(changed.result.outcomes["build"] == "MISS")
        #expect(changed.output.contains("miss: secret DB_PASSWORD changed"))
        #expect(!changed.output.contains("hunter2"))
        #expect(changed.result.buildNumber == 2)
    }

    @Test func missingSecretIsAnErrorBeforeAnythingRuns() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only", git: false)
        try project.write(
            "buildspec.yml",
            "version: 0.2\nenv:\n  parameter-store:\n    KEY: /a/b\nphases:\n  build:\n    commands: [touch ran.txt]\n"
        )
        await #expect(throws: RunnerError.self) { _ = try await project.build(store: storage.store) }
        #expect(project.read("ran.txt") == nil)
    }

    @Test func runAsAnotherUserIsRefused() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only", git: false)
        try project.write(
            "buildspec.yml", "version: 0.2\nrun-as: nobody-here\nphases:\n  build:\n    commands: [touch ran.txt]\n")
        do {
            _ = try await project.build(store: storage.store, environment: ["USER": "builder"])
            Issue.record("expected run-as to be refused")
        } catch let error as RunnerError {
            #expect(error.description.contains("run-as: cairn build runs every command as the current user (builder)"))
        }
        #expect(project.read("ran.txt") == nil)
    }

    @Test func credentialsComeFromTheEnvironmentOrTheSharedFile() throws {
        let fromEnvironment = StoreCredentials.resolve(environment: [
            "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
        ])
        #expect(fromEnvironment == StoreCredentials(accessKeyID: "a", secretAccessKey: "b"))
        let file = FileManager.default.temporaryDirectory.path + "/cairn-credentials-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try """
        [default]
        aws_access_key_id = default-id
        aws_secret_access_key = default-secret

        [ci]
        aws_access_key_id=ci-id
        aws_secret_access_key=ci-secret
        """.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(
            StoreCredentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file])
                == StoreCredentials(accessKeyID: "default-id", secretAccessKey: "default-secret")
        )
        #expect(
            StoreCredentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "ci"])
                == StoreCredentials(accessKeyID: "ci-id", secretAccessKey: "ci-secret")
        )
        #expect(
            StoreCredentials.resolve(environment: [
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "HOME": "/nonexistent",
            ]) == nil)
    }
}
