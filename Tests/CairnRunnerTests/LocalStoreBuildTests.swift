import CairnCore
import CairnRunner
import CairnTestSupport
import Foundation
import Testing

/// End to end through the embedded store: real fixture projects, real shells, real make and cc.
@Suite("cairn build with the embedded store")
struct LocalStoreBuildTests {
    static let buildSpecificVariables: Set<String> = [
        "CODEBUILD_BUILD_ID", "CODEBUILD_BUILD_ARN", "CODEBUILD_BUILD_NUMBER", "CODEBUILD_START_TIME",
        "CODEBUILD_SRC_DIR", "CODEBUILD_RESOLVED_SOURCE_VERSION", "PATH", "TOOL_HOME",
    ]

    func comparableEnvironment(_ result: BuildResult) -> [String: String] {
        result.finalEnvironment.filter { !Self.buildSpecificVariables.contains($0.key) }
    }

    @Test(.requires("git"))
    func coldBuildRunsEveryPhaseAndWarmBuildRestoresThemAll() async throws {
        let storage = try TemporaryStore()
        let first = try await FixtureProject("shell-only")
        let cold = try await first.build(store: storage.store)
        #expect(cold.result.succeeded, "\(cold.output)")
        #expect(
            cold.result.outcomes == ["install": "MISS", "pre_build": "MISS", "build": "MISS", "post_build": "MISS"])
        #expect(first.read("out/summary.txt") == "done sorted-3\n")
        #expect(first.read("out/mode.txt") == "fast\n$HOME/not-expanded\n")  // variables are verbatim
        #expect(first.read("out/scratch.txt") == nil)
        #expect(cold.result.finalEnvironment["RESULT"] == "sorted-3")

        // Another checkout of the same project: every phase is restored, nothing runs.
        let second = try await FixtureProject("shell-only")
        let warm = try await second.build(store: storage.store)
        #expect(warm.result.succeeded, "\(warm.output)")
        #expect(warm.result.outcomes == ["install": "HIT", "pre_build": "HIT", "build": "HIT", "post_build": "HIT"])
        #expect(warm.output.contains("restored from the store"))
        #expect(try second.tree() == first.tree())
        #expect(comparableEnvironment(warm.result) == comparableEnvironment(cold.result))
        // A variable that named the first checkout's directory names the second's after restoring.
        #expect(warm.result.finalEnvironment["TOOL_HOME"] == "/codebuild/output/src/out")

        // The same checkout again: still all hits, workspace unchanged.
        let before = try second.tree()
        let again = try await second.build(store: storage.store)
        #expect(again.result.outcomes.values.allSatisfy { $0 == "HIT" })
        #expect(try second.tree() == before)
    }

    @Test(.requires("git"))
    func editingRerunsExactlyThePhasesWhoseKeysChanged() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        _ = try await project.build(store: storage.store)

        // A command of post_build only: the buildspec itself is not an input.
        try project.edit("buildspec.yml", replacing: "echo \"done $RESULT\"", with: "echo \"finished $RESULT\"")
        var build = try await project.build(store: storage.store)
        #expect(build.result.outcomes == ["install": "HIT", "pre_build": "HIT", "build": "HIT", "post_build": "MISS"])
        #expect(build.output.contains("miss: commands changed"))
        #expect(project.read("out/summary.txt") == "finished sorted-3\n")

        // A command of build: pre_build is restored, with its unexported shell variable.
        try project.edit("buildspec.yml", replacing: "sort -r ../data/input.txt", with: "sort ../data/input.txt")
        build = try await project.build(store: storage.store)
        #expect(build.result.outcomes == ["install": "HIT", "pre_build": "HIT", "build": "MISS", "post_build": "MISS"])
        #expect(project.read("out/label.txt") == "words=3\n")
        #expect(project.read("out/sorted.txt") == "alpha\nbeta\ngamma\n")

        // A source file: every phase depends on the whole tree by default.
        try project.write("data/input.txt", "alpha\nbeta\ngamma\ndelta\n")
        build = try await project.build(store: storage.store)
        #expect(build.result.outcomes.values.allSatisfy { $0 == "MISS" })
        #expect(build.output.contains("miss: file data/input.txt changed"))
        #expect(project.read("out/summary.txt") == "finished sorted-4\n")

        // A declared variable: part of every phase's key.
        try project.edit("buildspec.yml", replacing: "MODE: \"fast\"", with: "MODE: \"thorough\"")
        build = try await project.build(store: storage.store)
        #expect(build.result.outcomes.values.allSatisfy { $0 == "MISS" })
        #expect(build.output.contains("miss: variable MODE changed ('fast' → 'thorough')"))
        #expect(project.read("out/mode.txt") == "thorough\n$HOME/not-expanded\n")

        // --no-cache runs everything and reports DISABLED.
        build = try await project.build(store: storage.store, useCache: false)
        #expect(build.result.outcomes.values.allSatisfy { $0 == "DISABLED" })
    }

    @Test(.requires("git", "make", "cc"))
    func cProgramWithNarrowedInstallInputs() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("c-make")
        let clock = ContinuousClock()
        var start = clock.now
        let cold = try await project.build(store: storage.store)
        let coldTime = clock.now - start
        #expect(cold.result.succeeded, "\(cold.output)")
        #expect(cold.result.outcomes.values.allSatisfy { $0 == "MISS" })
        #expect(project.read("build/output.txt") == "hello, world\n")
        #expect(cold.output.contains("hello, world"))

        let copy = try await FixtureProject("c-make")
        start = clock.now
        let warm = try await copy.build(store: storage.store)
        let warmTime = clock.now - start
        #expect(warm.result.outcomes.values.allSatisfy { $0 == "HIT" }, "\(warm.output)")
        #expect(try copy.tree() == project.tree())
        #expect(try await ChildProcess.output(["./build/app"], in: try #require(copy.workspace)) == "hello, world\n")
        print("c-make fixture: cold build \(coldTime), warm build (all restored) \(warmTime)")

        // Editing a source file reruns every phase but install, whose inputs are the Makefile only.
        try copy.edit("src/greet.c", replacing: "\", world\"", with: "\", cairn\"")
        let edited = try await copy.build(store: storage.store)
        #expect(
            edited.result.outcomes == ["install": "HIT", "pre_build": "MISS", "build": "MISS", "post_build": "MISS"])
        #expect(copy.read("build/output.txt") == "hello, cairn\n")
        // The build phase starts from the source alone: no objects of an earlier build to reuse.
        #expect(edited.output.contains("-c -o build/greet.o"))
        #expect(edited.output.contains("-c -o build/main.o"))

        // Editing the Makefile reruns install too.
        try copy.edit("Makefile", replacing: "CFLAGS ?= -O2", with: "CFLAGS ?= -O0")
        let makefile = try await copy.build(store: storage.store)
        #expect(makefile.result.phase(.install)?.cache == .miss)
        #expect(makefile.output.contains("miss: file Makefile changed"))
    }

    @Test(.requires("git"))
    func declaredOutputsOutsideTheTreeAreRestored() async throws {
        let storage = try TemporaryStore()
        let homes = (0..<2).map { _ in
            FileManager.default.temporaryDirectory.path + "/cairn-home-\(UUID().uuidString.prefix(8))"
        }
        defer { for home in homes { try? FileManager.default.removeItem(atPath: home) } }
        let buildspec = """
            version: 0.2
            phases:
              install:
                commands:
                  - mkdir -p "$HOME/toolchain/bin"
                  - printf '#!/bin/sh\\necho tool %s\\n' "$(cat tool.version)" > "$HOME/toolchain/bin/tool"
                  - chmod +x "$HOME/toolchain/bin/tool"
                  - export PATH="$HOME/toolchain/bin:$PATH"
              build:
                commands:
                  - tool > tool-output.txt
            cairn:
              phases:
                install:
                  inputs: [tool.version]
                  outputs: [~/toolchain]
            """
        var results: [(FixtureProject, BuildResult)] = []
        for home in homes {
            let project = try await FixtureProject("shell-only")
            try project.write("buildspec.yml", buildspec)
            try project.write("tool.version", "1.2")
            let (result, output) = try await project.build(store: storage.store, environment: ["HOME": home])
            #expect(result.succeeded, "\(output)")
            #expect(project.read("tool-output.txt") == "tool 1.2\n")
            results.append((project, result))
        }
        #expect(results[1].1.outcomes == ["install": "HIT", "build": "HIT"])
        // The second home never ran install: the tool came from the store, executable.
        #expect(FileManager.default.isExecutableFile(atPath: homes[1] + "/toolchain/bin/tool"))
        #expect(try await ChildProcess.output([homes[1] + "/toolchain/bin/tool"], in: homes[1]) == "tool 1.2\n")
        // PATH names this machine's home and this build's codebuild-hash-files, not the first build's.
        let path = try #require(results[1].1.finalEnvironment["PATH"])
        #expect(path.hasPrefix(homes[1] + "/toolchain/bin:"), "\(path)")
        #expect(!path.contains(homes[0]))
        let helper = path.split(separator: ":").first { $0.contains("cairn-bin-") }.map(String.init)
        #expect(helper.map { !FileManager.default.fileExists(atPath: $0) } == true)  // removed after the build
        #expect(
            helper
                != results[0].1.finalEnvironment["PATH"]?.split(separator: ":").first { $0.contains("cairn-bin-") }.map(
                    String.init))
    }

    @Test(.requires("git"))
    func aPhaseThatAlwaysRunsPassesNewValuesToLaterPhases() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              pre_build:
                commands:
                  - export APP_VERSION="1.0.$CODEBUILD_BUILD_NUMBER"
              build:
                commands:
                  - echo "$APP_VERSION" > version.txt
              post_build:
                commands:
                  - cat version.txt
            cairn:
              phases:
                pre_build:
                  cache: no
            """
        )
        let first = try await project.build(store: storage.store)
        #expect(first.result.outcomes == ["pre_build": "DISABLED", "build": "MISS", "post_build": "MISS"])
        #expect(project.read("version.txt") == "1.0.1\n")
        let second = try await project.build(store: storage.store)
        #expect(second.result.outcomes == ["pre_build": "DISABLED", "build": "MISS", "post_build": "MISS"])
        #expect(project.read("version.txt") == "1.0.2\n")
        #expect(
            second.output.contains("miss: variable set by an earlier phase: APP_VERSION changed ('1.0.1' → '1.0.2')"))
    }

    @Test(.requires("git"))
    func anEntryWhoseBlobIsGoneIsAMissAndIsStoredAgain() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        let cold = try await project.build(store: storage.store)
        #expect(cold.result.succeeded)
        // Retention swept the blob of out/sorted.txt, which the build phase created.
        let digest = try #require(try project.tree()["out/sorted.txt"]?.digest)
        let blobs = try FileBlobStore(dataDirectory: storage.directory)
        try FileManager.default.removeItem(atPath: blobs.path(for: digest))

        let copy = try await FixtureProject("shell-only")
        let warm = try await copy.build(store: storage.store)
        // build runs again and leaves the same files, so post_build's key is unchanged and it is restored.
        #expect(warm.result.outcomes == ["install": "HIT", "pre_build": "HIT", "build": "MISS", "post_build": "HIT"])
        #expect(warm.output.contains("same key as the last build, but its entry is gone from the store"))
        #expect(try copy.tree() == project.tree())
        #expect(blobs.contains(digest))
    }

    @Test(.requires("git"))
    func buildNumbersCountOnThroughNoCacheBuilds() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        let first = try await project.build(store: storage.store)
        let uncached = try await project.build(store: storage.store, useCache: false)
        let third = try await project.build(store: storage.store)
        #expect(first.result.finalEnvironment["CODEBUILD_BUILD_NUMBER"] == "1")
        #expect(uncached.result.outcomes.values.allSatisfy { $0 == "DISABLED" })
        #expect(uncached.result.finalEnvironment["CODEBUILD_BUILD_NUMBER"] == "2", "\(uncached.output)")
        #expect(third.result.buildNumber == 3)
    }

    @Test(.requires("git"))
    func rerecordRunsEveryPhaseAndReplacesABadEntry() async throws {
        let storage = try TemporaryStore()
        // What the build phase copies is not one of its inputs, so its entry can go stale: a bad entry.
        let outside = FileManager.default.temporaryDirectory.path + "/cairn-rerecord-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try "bad\n".write(toFile: outside, atomically: true, encoding: .utf8)
        let buildspec = """
            version: 0.2
            phases:
              install:
                commands:
                  - mkdir -p out && echo installed > out/installed.txt
              build:
                commands:
                  - cp "\(outside)" out/value.txt
            """
        let project = try await FixtureProject("shell-only")
        try project.write("buildspec.yml", buildspec)
        _ = try await project.build(store: storage.store)
        try "good\n".write(toFile: outside, atomically: true, encoding: .utf8)
        let stale = try await FixtureProject("shell-only")
        try stale.write("buildspec.yml", buildspec)
        let restored = try await stale.build(store: storage.store)
        #expect(restored.result.outcomes == ["install": "HIT", "build": "HIT"])
        #expect(stale.read("out/value.txt") == "bad\n")

        let rerecorded = try await stale.build(store: storage.store) { $0.rerecord = true }
        #expect(rerecorded.result.outcomes == ["install": "MISS", "build": "MISS"], "\(rerecorded.output)")
        #expect(rerecorded.result.phases.allSatisfy { $0.stored }, "\(rerecorded.output)")
        #expect(rerecorded.output.contains("--rerecord: run to replace its entry"))
        #expect(stale.read("out/value.txt") == "good\n")

        // Another checkout now restores the new entry.
        let fresh = try await FixtureProject("shell-only")
        try fresh.write("buildspec.yml", buildspec)
        let after = try await fresh.build(store: storage.store)
        #expect(after.result.outcomes == ["install": "HIT", "build": "HIT"])
        #expect(fresh.read("out/value.txt") == "good\n")
    }
}
