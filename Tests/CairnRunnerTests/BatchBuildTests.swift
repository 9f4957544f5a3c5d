import CairnRunner
import CairnTestSupport
import Foundation
import Testing

/// `cairn build --batch` through the runner's library API: scheduling, failure handling, single flight, fan-out.
@Suite("Batch builds")
struct BatchBuildTests {
    /// A git checkout of the shell fixture whose buildspec is `buildspec`, and an empty store.
    func checkout(_ buildspec: String) async throws -> (FixtureProject, TemporaryStore) {
        let project = try await FixtureProject("shell-only")
        try project.write("buildspec.yml", buildspec)
        try await project.commitAll()
        return (project, try TemporaryStore())
    }

    @Test(.requires("git", "bwrap"))
    func aFailedDependencyKeepsItsDependentsFromRunningUnlessItMayFail() async throws {
        let (project, store) = try await checkout(
            """
            version: 0.2
            batch:
              build-graph:
                - identifier: broken
                  env:
                    variables: {RESULT: "1"}
                - identifier: after_broken
                  depend-on: [broken]
                - identifier: after_after
                  depend-on: [after_broken]
                - identifier: allowed
                  ignore-failure: true
                  env:
                    variables: {RESULT: "1"}
                - identifier: after_allowed
                  depend-on: [allowed]
            env:
              variables:
                RESULT: "0"
            phases:
              build:
                commands:
                  - echo "building $CODEBUILD_BATCH_BUILD_IDENTIFIER"
                  - test "$RESULT" = 0
            """)
        let (result, output) = try await project.batch(store: store.store)
        #expect(
            result.statuses == [
                "broken": "FAILED", "after_broken": "NOT_RUN", "after_after": "NOT_RUN", "allowed": "FAILED",
                "after_allowed": "SUCCEEDED",
            ], "\(output)")
        #expect(!result.succeeded)
        #expect(result.status == "FAILED")
        #expect(output.contains("[after_allowed] building after_allowed"), "\(output)")
        #expect(!output.contains("building after_broken"))
        let line = output.split(separator: "\n").first { $0.hasPrefix("[cairn] after_broken ") }
        #expect(line?.contains("NOT_RUN") == true && line?.contains("broken did not succeed") == true, "\(output)")
    }

    @Test(.requires("git", "bwrap", "cc", "make"))
    func theCProjectBuildsAsAGraphInDependencyOrder() async throws {
        let project = try await FixtureProject("c-make")
        let buildspec = try #require(project.readSource("buildspec.yml"))
        try project.write(
            "buildspec.yml",
            buildspec + """

                batch:
                  build-graph:
                    - identifier: debug
                      env:
                        variables: {CFLAGS: "-O0 -g"}
                    - identifier: release
                      env:
                        variables: {CFLAGS: "-O2"}
                    - identifier: localized
                      depend-on: [debug, release]
                      env:
                        variables: {GREETING: "bonjour"}
                """)
        try await project.commitAll()
        let store = try TemporaryStore()
        let output = FileManager.default.temporaryDirectory.path + "/cairn-c-batch-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let (result, log) = try await project.batch(store: store.store, jobs: 2) { $0.outputDirectory = output }
        #expect(result.succeeded, "\(log)")
        // install's key is the Makefile and the variables: CFLAGS and GREETING differ, so each build has its own;
        // the phases after it differ too. The dependent started only after both builds it depends on.
        #expect(result.count(.build) == (3, 0), "\(log)")
        let localized = try #require(result.builds.last?.result)
        #expect(result.builds.prefix(2).allSatisfy { ($0.result?.endTime ?? .infinity) <= localized.startTime })
        for (identifier, greeting) in [("debug", "hello"), ("release", "hello"), ("localized", "bonjour")] {
            let printed = try String(contentsOfFile: "\(output)/\(identifier)/fixture/output.txt", encoding: .utf8)
            #expect(printed == "\(greeting), world\n", "\(identifier)")
        }
        let warm = try await project.batch(store: store.store, jobs: 2)
        #expect(warm.result.phasesRun == 0 && warm.result.phasesRestored == 12, "\(warm.output)")
    }

    @Test(.requires("git", "bwrap"))
    func withoutBatchTheBuildspecRunsAsOneBuild() async throws {
        let (project, store) = try await checkout(
            """
            version: 0.2
            batch:
              build-list:
                - identifier: never
                  env:
                    variables: {WHO: batch}
            env:
              variables: {WHO: single}
            phases:
              build:
                commands:
                  - echo "built by $WHO"
            """)
        let (result, output) = try await project.build(store: store.store)
        #expect(result.succeeded, "\(output)")
        #expect(output.contains("built by single"), "\(output)")
        #expect(output.contains("batch section (1 build) runs with --batch"), "\(output)")
        #expect(result.finalEnvironment["CODEBUILD_BATCH_BUILD_IDENTIFIER"] == nil)
    }

    @Test(.requires("git", "bwrap"))
    func aBuildThatMayFailDoesNotFailTheBatch() async throws {
        let (project, store) = try await checkout(
            """
            version: 0.2
            batch:
              build-list:
                - identifier: good
                - identifier: flaky
                  ignore-failure: true
                  env:
                    variables: {RESULT: "3"}
            env:
              variables: {RESULT: "0"}
            phases:
              build:
                commands:
                  - test "$RESULT" = 0
            """)
        let (result, output) = try await project.batch(store: store.store)
        #expect(result.statuses == ["good": "SUCCEEDED", "flaky": "FAILED"], "\(output)")
        #expect(result.succeeded)
    }

    @Test(.requires("git", "bwrap"))
    func fastFailStopsTheRunningBuildsAndStartsNoMore() async throws {
        let (project, store) = try await checkout(
            """
            version: 0.2
            batch:
              fast-fail: true
              build-list:
                - identifier: slow
                  env:
                    variables: {NAP: "60"}
                - identifier: failing
                  env:
                    variables: {NAP: "fail"}
                - identifier: queued
            env:
              variables: {NAP: "1"}
            phases:
              build:
                commands:
                  - if [ "$NAP" = fail ]; then sleep 1; exit 1; fi
                  - sleep $NAP
            """)
        // STOPPED, not SUCCEEDED, shows the slow build was cut short: no timing, which a loaded machine stretches.
        let (result, output) = try await project.batch(store: store.store, jobs: 2)
        #expect(result.statuses == ["slow": "STOPPED", "failing": "FAILED", "queued": "NOT_RUN"], "\(output)")
        #expect(result.status == "FAILED")
        #expect(result.interruptingSignal == nil)
        // A stopped build stores nothing: the slow build's phase runs again next time.
        #expect(result.builds[0].result?.phase(.build)?.stored == false)
    }

    @Test(.requires("git", "bwrap"))
    func aMatrixRunsEachDistinctInstallOnce() async throws {
        let project = try await FixtureProject("shell-only")
        let phases = """
            phases:
              install:
                commands:
                  - sleep 1
                  - echo "installed for $MY_VAR" > install.txt
              build:
                commands:
                  - echo "$CODEBUILD_BATCH_BUILD_IDENTIFIER $(cat install.txt)"
            """
        try project.write("matrix1.yml", "version: 0.2\n" + phases + "\n      - echo one\n")
        try project.write("matrix2.yml", "version: 0.2\n" + phases + "\n      - echo two\n")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            batch:
              build-matrix:
                dynamic:
                  buildspec: [matrix1.yml, matrix2.yml]
                  env:
                    variables:
                      MY_VAR: [a, b, c]
            """)
        try await project.commitAll()
        let store = try TemporaryStore()
        let report = project.path("batch.json")
        let (result, output) = try await project.batch(store: store.store, jobs: 6) { $0.reportPath = report }
        #expect(result.succeeded, "\(output)")
        #expect(result.builds.count == 6)
        // Three distinct install keys (one per value); the other three builds restore them, waiting if need be.
        #expect(result.count(.install) == (3, 3), "\(output)")
        #expect(result.count(.build) == (6, 0))
        #expect(output.contains("[matrix2_MY_VAR_b] matrix2_MY_VAR_b installed for b"), "\(output)")
        let numbers = Set(result.builds.compactMap { $0.result?.buildNumber })
        #expect(numbers.count == 6, "build numbers are unique: \(numbers)")

        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        #expect(json["buildBatchStatus"] as? String == "SUCCEEDED")
        #expect(json["phasesRestored"] as? Int == 3)
        let groups = try #require(json["buildGroups"] as? [[String: Any]])
        #expect(groups.map { $0["identifier"] as? String } == result.builds.map(\.task.identifier))
        let summary = try #require(groups[0]["currentBuildSummary"] as? [String: Any])
        #expect(summary["buildStatus"] as? String == "SUCCEEDED")
        let own = try #require(groups[0]["report"] as? String)
        #expect(own == project.path("batch.matrix1_MY_VAR_a.json"))
        let build = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: own))) as? [String: Any])
        #expect(build["buildStatus"] as? String == "SUCCEEDED")

        // The same command again: the reports the first batch left in the checkout are the runner's, not inputs.
        let warm = try await project.batch(store: store.store, jobs: 6) { $0.reportPath = report }
        #expect(warm.result.count(.install) == (0, 6))
        #expect(warm.result.count(.build) == (0, 6), "\(warm.output)")
    }

    @Test(.requires("git", "bwrap"))
    func fanoutShardsSplitTheTests() async throws {
        let project = try await FixtureProject("shell-only")
        for name in ["a", "b", "c", "d", "e"] { try project.write("data/test_\(name).sh", "echo \(name)\n") }
        for strategy in ["equal-distribution", "stability"] {
            try project.write(
                "buildspec.yml",
                """
                version: 0.2
                batch:
                  build-fanout:
                    parallelism: 2
                phases:
                  build:
                    commands:
                      - echo "shard $CAIRN_SHARD_INDEX of $CAIRN_SHARD_COUNT"
                      - >-
                        codebuild-tests-run --test-command 'echo RAN'
                        --files-search "codebuild-glob-search 'data/test_*.sh'"
                        --sharding-strategy \(strategy)
                """)
            try await project.commitAll()
            let store = try TemporaryStore()
            let (result, output) = try await project.batch(store: store.store)
            #expect(result.statuses == ["shard1": "SUCCEEDED", "shard2": "SUCCEEDED"], "\(output)")
            #expect(output.contains("[shard1] shard 0 of 2") && output.contains("[shard2] shard 1 of 2"))
            let ran = output.split(separator: "\n").filter { $0.contains("] RAN ") }
            #expect(ran.count == 2, "\(output)")
            let files = ran.flatMap { $0.split(separator: " ").dropFirst(2) }.map(String.init).sorted()
            #expect(files == ["a", "b", "c", "d", "e"].map { "data/test_\($0).sh" }, "\(strategy): \(output)")
            if strategy == "equal-distribution" {
                #expect(ran.contains { $0.hasPrefix("[shard1] RAN data/test_a.sh data/test_b.sh data/test_c.sh") })
            }
        }
    }

    @Test(.requires("git", "bwrap"))
    func eachBuildsArtifactsLandUnderItsIdentifier() async throws {
        let (project, store) = try await checkout(
            """
            version: 0.2
            batch:
              build-list:
                - identifier: one
                  env:
                    variables: {WHO: one}
                - identifier: two
                  env:
                    variables: {WHO: two}
            phases:
              build:
                commands:
                  - echo "$WHO" > made.txt
            artifacts:
              files: [made.txt]
            """)
        let output = FileManager.default.temporaryDirectory.path + "/cairn-batch-out-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let (result, log) = try await project.batch(store: store.store) { $0.outputDirectory = output }
        #expect(result.succeeded, "\(log)")
        #expect(result.builds[0].result?.artifactLocations == ["s3://cairn-artifacts/fixture/one/fixture/"])
        #expect(try String(contentsOfFile: output + "/two/fixture/made.txt", encoding: .utf8) == "two\n")
    }
}
