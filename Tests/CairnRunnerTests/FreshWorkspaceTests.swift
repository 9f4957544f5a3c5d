import CairnCore
import CairnRunner
import CairnTestSupport
import Foundation
import Testing

/// Every build starts from the source alone, in a workspace at the same path everywhere: what the build-environment
/// failures of in-place builds were (incomplete entries, leftovers as inputs, restored files pointing at another
/// checkout), reproduced and shown fixed.
@Suite("Builds in a fresh workspace")
struct FreshWorkspaceTests {
    @Test(.requires("git", "bwrap"))
    func theCheckoutIsReadNeverWrittenAndItsLeftoversAreNotInputs() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        // Ignored leftovers of an earlier in-place build, and an untracked file that is not ignored.
        try FileManager.default.createDirectory(atPath: project.path("out"), withIntermediateDirectories: true)
        try project.write("out/summary.txt", "stale\n")
        try project.write("notes.txt", "an untracked input\n")
        let before = try WorkspaceScanner(sourceDirectory: project.directory).snapshot().entries
        let build = try await project.build(store: storage.store)
        #expect(build.result.succeeded, "\(build.output)")
        #expect(try WorkspaceScanner(sourceDirectory: project.directory).snapshot().entries == before)
        #expect(project.read("notes.txt") == "an untracked input\n")
        #expect(project.read("out/summary.txt") == "done sorted-3\n")
        // The leftover was not in the workspace: install's entry holds the whole `out` it made.
        #expect(build.output.contains("stored INSTALL: 3 changed"), "\(build.output)")
    }

    @Test(.requires("git", "bwrap"))
    func outputsOfEarlierBuildsNeverBecomeInputs() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only", git: true)
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              install:
                commands:
                  - echo tools > tools.txt
              pre_build:
                commands:
                  - mkdir -p reports
                  - echo "<testsuite timestamp=\\"$(date +%s%N)\\"/>" > reports/junit.xml
              build:
                commands:
                  - cat data/input.txt tools.txt > built.txt
              post_build:
                commands:
                  - echo post one > post.txt
            """
        )
        let cold = try await project.build(store: storage.store)
        #expect(cold.result.outcomes.values.allSatisfy { $0 == "MISS" }, "\(cold.output)")
        // A timestamped report written by the last build does not make the next one miss.
        let again = try await project.build(store: storage.store)
        #expect(again.result.outcomes.values.allSatisfy { $0 == "HIT" }, "\(again.output)")
        // Editing only post_build reruns only post_build.
        try project.edit("buildspec.yml", replacing: "echo post one", with: "echo post two")
        let edited = try await project.build(store: storage.store)
        #expect(
            edited.result.outcomes == ["install": "HIT", "pre_build": "HIT", "build": "HIT", "post_build": "MISS"],
            "\(edited.output)")
        #expect(project.read("post.txt") == "post two\n")
    }

    /// The Python library of the issue: a venv with an editable install in `install`, tests in `pre_build`, a wheel
    /// in `build`. Built on one simulated machine, restored on another (another checkout path, `HOME` and
    /// workspace directory, sharing only the store), and the two workspaces are identical.
    @Test(.requires("git", "bwrap", "python3"))
    func aPythonBuildRestoresWholeOnAnotherMachine() async throws {
        let storage = try TemporaryStore()
        let machines = (0..<2).map { _ in
            FileManager.default.temporaryDirectory.path + "/cairn-machine-\(UUID().uuidString.prefix(8))"
        }
        defer { for machine in machines { try? FileManager.default.removeItem(atPath: machine) } }
        for machine in machines {
            try FileManager.default.createDirectory(atPath: machine + "/home", withIntermediateDirectories: true)
        }
        func write(_ project: FixtureProject) throws {
            try project.write(".gitignore", ".venv/\ndist/\n__pycache__/\n")
            try FileManager.default.createDirectory(atPath: project.path("src"), withIntermediateDirectories: true)
            try project.write("src/mylib.py", "def answer():\n    return 42\n")
            try project.write("requirements.txt", "")
            try project.write("test_mylib.py", "import mylib\nassert mylib.answer() == 42\nprint('tests passed')\n")
            try project.write(
                "buildspec.yml",
                """
                version: 0.2
                phases:
                  install:
                    commands:
                      - python3 -m venv .venv
                      - echo "$CODEBUILD_SRC_DIR/src" > "$(ls -d .venv/lib/python3*/site-packages)/mylib.pth"
                  pre_build:
                    commands:
                      - .venv/bin/python test_mylib.py
                      - .venv/bin/python -c 'import mylib; print(mylib.__file__)' > where.txt
                  build:
                    commands:
                      - mkdir -p dist
                      - (cd src && ../.venv/bin/python -m zipfile -c ../dist/mylib-1.0-py3-none-any.whl mylib.py)
                  post_build:
                    commands:
                      - .venv/bin/pip --version > pip.txt
                artifacts:
                  files:
                    - dist/*.whl
                cairn:
                  phases:
                    install:
                      inputs: [requirements.txt]
                """
            )
        }
        // The interpreter itself, not a version manager's shim that finds its versions through HOME.
        let python = try await ChildProcess.output(["python3", "-c", "import sys; print(sys.executable)"], in: "/")
        let bin = (python.trimmingCharacters(in: .whitespacesAndNewlines) as NSString).deletingLastPathComponent
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let first = try await FixtureProject("shell-only", git: false)
        try write(first)
        try await first.commitAll()
        let cold = try await first.build(
            store: storage.store, environment: ["HOME": machines[0] + "/home", "PATH": path]
        ) {
            $0.workspaceRoot = machines[0] + "/workspaces"
        }
        #expect(cold.result.succeeded, "\(cold.output)")
        #expect(first.read("where.txt") == "/codebuild/output/src/src/mylib.py\n")

        let second = try await FixtureProject("shell-only", git: false)
        try write(second)
        try await second.commitAll()
        let output = machines[1] + "/artifacts"
        let warm = try await second.build(
            store: storage.store, environment: ["HOME": machines[1] + "/home", "PATH": path]
        ) {
            $0.workspaceRoot = machines[1] + "/workspaces"
            $0.outputDirectory = output
        }
        #expect(warm.result.outcomes.values.allSatisfy { $0 == "HIT" }, "\(warm.output)")
        let restored = try second.tree()
        let built = try first.tree()
        let differing = Set(restored.keys).union(built.keys).filter { restored[$0] != built[$0] }
        #expect(differing.isEmpty, "\(differing.count) paths differ, e.g. \(differing.sorted().prefix(5))")
        #expect(built.keys.filter { $0.hasPrefix(".venv/") }.count > 100, "the entry holds the whole venv")
        #expect(FileManager.default.fileExists(atPath: output + "/fixture/dist/mylib-1.0-py3-none-any.whl"))

        // The restored venv works there and points at that machine's source: a changed test runs against it.
        try second.write("src/mylib.py", "def answer():\n    return 41\n")
        let broken = try await second.build(
            store: storage.store, environment: ["HOME": machines[1] + "/home", "PATH": path]
        ) {
            $0.workspaceRoot = machines[1] + "/workspaces"
        }
        #expect(broken.result.phase(.install)?.cache == .hit)
        #expect(broken.result.phase(.preBuild)?.status == .failed, "\(broken.output)")
        #expect(broken.output.contains("AssertionError"))
    }

    @Test(.requires("git", "bwrap"))
    func aHostPhaseThatChangesHomeIsWarnedAbout() async throws {
        let storage = try TemporaryStore()
        let home = FileManager.default.temporaryDirectory.path + "/cairn-home-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: home + "/.local/lib", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              install:
                commands:
                  - mkdir -p ~/.local/lib/tool && echo 1 > ~/.local/lib/tool/installed
              build:
                commands:
                  - mkdir -p ~/.m2/repository/org && echo jar > ~/.m2/repository/org/lib.jar
                  - echo built > built.txt
            cairn:
              phases:
                build:
                  outputs: [~/.m2/repository]
            """
        )
        let build = try await project.build(store: storage.store, environment: ["HOME": home])
        #expect(build.result.succeeded, "\(build.output)")
        #expect(
            build.output.contains(
                "warning: INSTALL changed files outside the workspace that its entry does not hold: ~/.local/lib"),
            "\(build.output)")
        // A declared output is recorded, so it is not warned about.
        #expect(!build.output.contains("warning: BUILD changed files outside"), "\(build.output)")
    }
}
