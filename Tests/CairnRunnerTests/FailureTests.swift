import CairnCore
import CairnRunner
import CairnTestSupport
import Foundation
import Testing

/// CodeBuild's phase transitions and `on-failure`, with the embedded store.
@Suite("Failing phases")
struct FailureTests {
    @Test(.requires("git"))
    func failingBuildStillRunsPostBuildAndUploadsArtifactsButStoresNothing() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              pre_build:
                commands:
                  - mkdir -p out
              build:
                commands:
                  - echo partial > out/partial.txt
                  - echo "compiler error" >&2; exit 2
                  - echo never > out/never.txt
                finally:
                  - echo cleanup > out/finally.txt
              post_build:
                commands:
                  - echo "succeeding=$CODEBUILD_BUILD_SUCCEEDING" > out/post.txt
            artifacts:
              files:
                - out/*
            """
        )
        let (result, output) = try await project.build(
            store: storage.store, configure: { $0.artifactsDestination = "s3://builds/fixture" }
        )
        #expect(!result.succeeded)
        #expect(result.phase(.build)?.status == .failed)
        #expect(result.phase(.postBuild)?.status == .succeeded)
        #expect(project.read("out/post.txt") == "succeeding=0\n")
        #expect(project.read("out/finally.txt") == "cleanup\n")
        #expect(project.read("out/never.txt") == nil)
        #expect(output.contains("compiler error"))
        // Nothing stored for the failed phase.
        let buildKey = try #require(result.phase(.build)?.key)
        #expect(try await storage.store.entry(namespace: "runner", key: buildKey) == nil)
        #expect(result.phase(.preBuild)?.stored == true)
        // Artifacts were uploaded anyway, as S3 objects a server on this directory would serve.
        #expect(result.artifactLocations == ["s3://builds/fixture/fixture/"])
        let metadata = try SQLiteMetadataStore(dataDirectory: storage.directory)
        let object = try #require(try await metadata.object(bucket: "builds", key: "fixture/fixture/out/post.txt"))
        #expect(object.size == 13)
        // Tagged for retention's keep_last_builds.
        #expect(object.headers.userMetadata["cairn-build"] == "1")
        #expect(object.headers.userMetadata["cairn-project"]?.isEmpty == false)

        // Run again: the failed phase runs again (it was never stored), pre_build is restored.
        let again = try await project.build(store: storage.store)
        #expect(again.result.outcomes["pre_build"] == "HIT")
        #expect(again.result.outcomes["build"] == "MISS")
    }

    @Test(.requires("git"))
    func failedInstallStopsTheBuild() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              install:
                commands:
                  - "false"
              build:
                commands:
                  - touch built.txt
            artifacts:
              files: ['**/*']
            """
        )
        let (result, _) = try await project.build(store: storage.store)
        #expect(!result.succeeded)
        #expect(result.outcomes["build"] == "NOT_RUN")
        #expect(project.read("built.txt") == nil)
        #expect(result.artifactLocations.isEmpty)
    }

    @Test(.requires("git"))
    func anArtifactThatMatchesNothingFailsTheBuildAsCodeBuildDoes() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - mkdir -p dist && echo built > dist/app.txt
            artifacts:
              files:
                - dist/*.whl
              discard-paths: yes
              secondary-artifacts:
                logs:
                  base-directory: logs
                  files: ['**/*']
                partial:
                  files:
                    - dist/*.txt
                    - missing/**/*
            """
        )
        let report = project.path("report.json")
        let (result, output) = try await project.build(store: storage.store) { $0.reportPath = report }
        #expect(!result.succeeded, "\(output)")
        #expect(result.phase(.build)?.status == .succeeded)
        #expect(
            output.contains(
                "[cairn] artifact primary failed: no matching artifact paths found: 'dist/*.whl' matched no file"),
            "\(output)")
        #expect(
            output.contains("[cairn] artifact logs failed: no matching base directory path found for 'logs'"),
            "\(output)")
        // A pattern that matches nothing beside one that matches is skipped, as CodeBuild skips it.
        #expect(
            output.contains("[cairn] artifact partial: skipping 'missing/**/*', which matches no file"), "\(output)")
        #expect(result.artifactLocations == ["s3://cairn-artifacts/fixture/partial/"])
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        #expect(json["buildStatus"] as? String == "FAILED")
    }

    @Test(.requires("git"))
    func onFailureContinueGoesOnToTheNextPhase() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              pre_build:
                on-failure: CONTINUE
                commands:
                  - "false"
              build:
                commands:
                  - echo "$CODEBUILD_BUILD_SUCCEEDING" > built.txt
            """
        )
        let (result, _) = try await project.build(store: storage.store)
        #expect(!result.succeeded)
        #expect(result.phase(.preBuild)?.status == .failed)
        #expect(result.phase(.build)?.status == .succeeded)
        #expect(project.read("built.txt") == "0\n")
    }

    @Test(.requires("git"))
    func retryTwoRerunsAFlakyPhase() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        let counter = FileManager.default.temporaryDirectory.path + "/cairn-retry-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: counter) }
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                on-failure: RETRY-2
                commands:
                  - echo x >> "\(counter)"
                  - test "$(wc -l < "\(counter)")" -ge 3
                  - echo ok > built.txt
            """
        )
        let (result, output) = try await project.build(store: storage.store)
        #expect(result.succeeded, "\(output)")
        #expect(result.phase(.build)?.attempts == 3)
        #expect(project.read("built.txt") == "ok\n")

        // Two retries are not enough for a phase that needs a fourth attempt.
        try "".write(toFile: counter, atomically: true, encoding: .utf8)
        try project.edit("buildspec.yml", replacing: "-ge 3", with: "-ge 4")
        let failing = try await project.build(store: storage.store)
        #expect(!failing.result.succeeded)
        #expect(failing.result.phase(.build)?.attempts == 3)
    }

    @Test(.requires("git"))
    func retryWithAPatternRetriesOnlyMatchingFailures() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                on-failure: RETRY-3-connection reset
                commands:
                  - echo "syntax error" && false
            """
        )
        let (result, output) = try await project.build(store: storage.store)
        #expect(!result.succeeded)
        #expect(result.phase(.build)?.attempts == 1)
        #expect(output.contains("does not match"))
    }

    @Test(.requires("git"))
    func interruptingStopsTheRunningCommandAndTheBuild() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - sleep 60 & echo $! > "$PID_FILE"; wait
              post_build:
                commands:
                  - touch post.txt
            """
        )
        let interruption = BuildInterruption()
        // A plain thread, not a task: it must not wait for the test's cooperative threads.
        let pidFile = project.path("sleep.pid")
        defer { unlink(pidFile) }
        let interrupter = Thread {
            // Generous: under a full parallel test run on two cores the build may start minutes late, and an
            // interruption before the command runs would test nothing.
            let deadline = Date().addingTimeInterval(600)
            while Date() < deadline {
                if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), text.hasSuffix("\n") { break }
                usleep(20_000)
            }
            interruption.interrupt(signal: SIGTERM)
        }
        interrupter.start()
        let (result, output) = try await project.build(store: storage.store, environment: ["PID_FILE": pidFile]) {
            $0.interruption = interruption
        }
        #expect(result.interruptingSignal == SIGTERM)
        #expect(!result.succeeded)
        #expect(result.outcomes["post_build"] == "NOT_RUN")
        #expect(project.read("post.txt") == nil)
        // The command's own child was stopped with it.
        let pid = try #require(
            project.readSource("sleep.pid").flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        var gone = false
        for _ in 0..<100 where !gone {
            // Gone, or a zombie waiting for whichever process reaps orphans here.
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            gone = kill(pid, 0) != 0 || stat.contains(") Z ")
            if !gone { usleep(50_000) }
        }
        #expect(gone, "sleep \(pid) still runs\n\(output)")
    }
}
