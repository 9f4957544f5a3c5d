import CairnRunner
import Testing

@Suite("Batch section parsing")
struct BatchSpecTests {
    @Test func parsesAGraphWithEveryTaskField() throws {
        let spec = try Buildspec.parse(
            """
            version: 0.2
            batch:
              fast-fail: true
              build-graph:
                - identifier: build1
                  env:
                    image: busybox:latest
                    privileged-mode: true
                    compute-type: BUILD_GENERAL1_SMALL
                    type: LINUX_CONTAINER
                    variables:
                      BUILD_ID: build1
                  ignore-failure: true
                  debug-session: false
                - identifier: build2
                  buildspec: build2.yml
                  depend-on:
                    - build1
            phases:
              build:
                commands: [echo]
            """
        )
        let batch = try #require(spec.batch)
        #expect(batch.form == .graph)
        #expect(batch.fastFail)
        #expect(batch.tasks.map(\.identifier) == ["build1", "build2"])
        let first = batch.tasks[0]
        #expect(first.image == "busybox:latest")
        #expect(first.privilegedMode == true)
        #expect(first.computeType == "BUILD_GENERAL1_SMALL")
        #expect(first.environmentType == "LINUX_CONTAINER")
        #expect(first.variables == [.init(name: "BUILD_ID", value: "build1")])
        #expect(first.ignoreFailure)
        #expect(batch.tasks[1].buildspec == "build2.yml")
        #expect(batch.tasks[1].dependsOn == ["build1"])
        #expect(batch.localNotes.contains { $0.contains("compute-type") })
    }

    @Test func listIdentifiersDefaultByPosition() throws {
        let spec = try Buildspec.parse(
            """
            version: 0.2
            batch:
              build-list:
                - env:
                    variables: {A: one}
                - identifier: named
            """
        )
        #expect(spec.batch?.form == .list)
        #expect(spec.batch?.tasks.map(\.identifier) == ["build1", "named"])
    }

    @Test func matrixMakesOneBuildPerCombination() throws {
        let spec = try Buildspec.parse(
            """
            version: 0.2
            batch:
              build-matrix:
                static:
                  ignore-failure: true
                  env:
                    privileged-mode: true
                dynamic:
                  buildspec:
                    - matrix1.yml
                    - config/matrix2.yml
                  env:
                    variables:
                      MY_VAR:
                        - VALUE1
                        - VALUE2
                        - value.3
            """
        )
        let tasks = try #require(spec.batch?.tasks)
        #expect(
            tasks.map(\.identifier) == [
                "matrix1_MY_VAR_VALUE1", "matrix1_MY_VAR_VALUE2", "matrix1_MY_VAR_value_3",
                "matrix2_MY_VAR_VALUE1", "matrix2_MY_VAR_VALUE2", "matrix2_MY_VAR_value_3",
            ])
        #expect(tasks.allSatisfy { $0.ignoreFailure && $0.privilegedMode == true })
        #expect(tasks[4].buildspec == "config/matrix2.yml")
        #expect(tasks[4].variables == [.init(name: "MY_VAR", value: "VALUE2")])
    }

    @Test func matrixOfImages() throws {
        let spec = try Buildspec.parse(
            """
            version: 0.2
            batch:
              build-matrix:
                dynamic:
                  env:
                    image: [busybox:1.36, "registry.example/tools/alpine:3"]
            """
        )
        let tasks = try #require(spec.batch?.tasks)
        #expect(tasks.map(\.identifier) == ["busybox_1_36", "registry_example_tools_alpine_3"])
        #expect(tasks.map(\.image) == ["busybox:1.36", "registry.example/tools/alpine:3"])
    }

    @Test func fanoutMakesShards() throws {
        let spec = try Buildspec.parse(
            "version: 0.2\nbatch:\n  build-fanout:\n    parallelism: 3\n    ignore-failure: false\n")
        let tasks = try #require(spec.batch?.tasks)
        #expect(tasks.map(\.identifier) == ["shard1", "shard2", "shard3"])
        #expect(
            tasks.map(\.shard) == [.init(index: 0, count: 3), .init(index: 1, count: 3), .init(index: 2, count: 3)])
    }

    @Test func aCycleIsRefusedNamingItsBuilds() throws {
        let error = try #require(
            throws: BuildspecError.self,
            performing: {
                try Buildspec.parse(
                    """
                    version: 0.2
                    batch:
                      build-graph:
                        - identifier: a
                          depend-on: [c]
                        - identifier: b
                          depend-on: [a]
                        - identifier: c
                          depend-on: [b]
                    """
                )
            })
        #expect(error.description.contains("cycle: a -> c -> b -> a"), "\(error)")
    }

    @Test func anUnknownDependencyIsRefusedNamingIt() throws {
        let error = try #require(
            throws: BuildspecError.self,
            performing: {
                try Buildspec.parse(
                    "version: 0.2\nbatch:\n  build-graph:\n    - identifier: a\n      depend-on: [nope]\n")
            })
        #expect(error.description.contains("'a' depends on 'nope'"), "\(error)")
    }

    @Test func refusals() throws {
        let cases: [(String, String)] = [
            ("build-graph:\n    - identifier: a\n      debug-session: true", "Session Manager"),
            ("build-graph:\n    - buildspec: x.yml", "'identifier' is required"),
            ("build-list:\n    - identifier: a\n    - identifier: a", "used twice"),
            ("build-list:\n    - identifier: a/b", "not an identifier"),
            ("build-fanout:\n    parallelism: 0", "from 1 to 100"),
            ("build-list:\n    - identifier: a\n  build-fanout:\n    parallelism: 2", "one type"),
            ("build-list:\n    - env:\n        compute-type: X\n        fleet: Y", "cannot both"),
            ("build-list:\n    - env:\n        variables: {CODEBUILD_X: y}", "reserved"),
            ("fast-fail: true", "expected one of"),
        ]
        for (batch, message) in cases {
            let error = try #require(
                throws: BuildspecError.self, performing: { try Buildspec.parse("version: 0.2\nbatch:\n  " + batch) })
            #expect(error.description.contains(message), "\(batch): \(error)")
        }
    }
}
