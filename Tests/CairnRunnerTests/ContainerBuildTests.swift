import CairnCore
import CairnRunner
import CairnTestSupport
import Foundation
import Testing

/// `cairn build --image`: the whole build in one container, phases restored into fresh containers of the same image.
@Suite("Builds in a container image")
struct ContainerBuildTests {
    /// Whether the container of a build (named after its id, other tests' builds run at the same time) still exists.
    static func containerExists(of result: BuildResult) async throws -> Bool {
        let name = "cairn-" + result.buildID.replacingOccurrences(of: ":", with: "-")
        return try await ChildProcess.run(["podman", "container", "exists", name]).status == 0
    }

    /// A machine of its own: checkout, HOME and workspace directory; only the store is shared.
    struct Machine {
        let root: String
        init() throws {
            root = FileManager.default.temporaryDirectory.path + "/cairn-machine-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
        }
        func configure(_ options: inout BuildOptions, image: String) {
            options.image = image
            options.workspaceRoot = root + "/workspaces"
            options.environment["HOME"] = root + "/home"
        }
        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test(.requires("git", "podman", root: true, images: [ContainerImages.bookworm]))
    func anInstallThatChangedUsrIsRestoredIntoAFreshContainerOnAnotherMachine() async throws {
        let storage = try TemporaryStore()
        let machines = try [Machine(), Machine()]
        defer { machines.forEach { $0.remove() } }
        let buildspec = """
            version: 0.2
            phases:
              install:
                commands:
                  - apt-get install -y -qq --no-download jq > /dev/null
                  - mkdir -p /opt/tools && echo 'tool 2.0' > /opt/tools/VERSION
              build:
                commands:
                  - jq -r .name data/input.json > name.txt
                  - cat /opt/tools/VERSION >> name.txt
            cairn:
              phases:
                install:
                  inputs: [tools.lock]
            """
        func checkout() async throws -> FixtureProject {
            let project = try await FixtureProject("shell-only", git: false)
            try project.write("buildspec.yml", buildspec)
            try project.write("tools.lock", "jq\n")
            try project.write("data/input.json", "{\"name\": \"first\"}\n")
            try await project.commitAll()
            return project
        }
        let first = try await checkout()
        let cold = try await first.build(store: storage.store) {
            machines[0].configure(&$0, image: ContainerImages.bookworm)
        }
        #expect(cold.result.succeeded, "\(cold.output)")
        #expect(first.read("name.txt") == "first\ntool 2.0\n")
        #expect(cold.result.finalEnvironment["CODEBUILD_BUILD_IMAGE"] == ContainerImages.bookworm)

        // Another machine, another input for build: install is restored into a fresh container of the image, and
        // the build phase that runs after it finds jq under /usr.
        let second = try await checkout()
        try second.write("data/input.json", "{\"name\": \"second\"}\n")
        try await second.commitAll()
        let warm = try await second.build(store: storage.store) {
            machines[1].configure(&$0, image: ContainerImages.bookworm)
        }
        #expect(warm.result.outcomes == ["install": "HIT", "build": "MISS"], "\(warm.output)")
        #expect(warm.result.succeeded, "\(warm.output)")
        #expect(second.read("name.txt") == "second\ntool 2.0\n")
        #expect(try await !Self.containerExists(of: warm.result))
        #expect(try await !Self.containerExists(of: cold.result))
    }

    @Test(.requires("git", "podman", root: true))
    func anotherImageDigestMissesEveryPhase() async throws {
        let storage = try TemporaryStore()
        let image = try await ContainerImages.busybox()
        let context = try TemporaryDirectory()
        let child = "localhost/cairn-test-child-\(UUID().uuidString.prefix(8).lowercased())"
        try "FROM \(image)\nRUN echo changed > /etc/release\n".write(
            to: context.url.appendingPathComponent("Containerfile"), atomically: true, encoding: .utf8)
        _ = try await ChildProcess.output(
            ["podman", "build", "--pull=never", "--network", "none", "--tag", child, "."], in: context.path)
        defer { Task { _ = try? await ChildProcess.run(["podman", "rmi", "--force", child]) } }
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              install:
                commands:
                  - echo installed > /usr/local/bin/marker
              build:
                commands:
                  - cat /usr/local/bin/marker > built.txt
            """
        )
        let first = try await project.build(store: storage.store) { $0.image = image }
        #expect(first.result.succeeded, "\(first.output)")
        let again = try await project.build(store: storage.store) { $0.image = image }
        #expect(again.result.outcomes.values.allSatisfy { $0 == "HIT" }, "\(again.output)")
        let other = try await project.build(store: storage.store) { $0.image = child }
        #expect(other.result.outcomes.values.allSatisfy { $0 == "MISS" }, "\(other.output)")
        #expect(other.output.contains("miss: build image changed"), "\(other.output)")
        #expect(project.read("built.txt") == "installed\n")
    }

    @Test(.requires("git", "podman", root: true))
    func interruptingAContainerBuildLeavesNoContainer() async throws {
        let storage = try TemporaryStore()
        let image = try await ContainerImages.busybox()
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - echo started > started.txt
                  - sleep 60
                  - echo late > late.txt
            """
        )
        let interruption = BuildInterruption()
        let workspaces = FileManager.default.temporaryDirectory.path + "/cairn-ws-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: workspaces) }
        let interrupter = Thread {
            let deadline = Date().addingTimeInterval(600)
            while Date() < deadline {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: workspaces)) ?? []
                if names.contains(where: {
                    FileManager.default.fileExists(atPath: workspaces + "/" + $0 + "/started.txt")
                }) {
                    break
                }
                usleep(20_000)
            }
            interruption.interrupt(signal: SIGINT)
        }
        interrupter.start()
        let (result, output) = try await project.build(store: storage.store) {
            $0.image = image
            $0.interruption = interruption
            $0.workspaceRoot = workspaces
        }
        #expect(result.interruptingSignal == SIGINT, "\(output)")
        #expect(!result.succeeded)
        #expect(try await !Self.containerExists(of: result))
        #expect(project.read("late.txt") == nil)
    }

    @Test(.requires("git"))
    func anUnknownEngineIsAClearError() async throws {
        let storage = try TemporaryStore()
        let project = try await FixtureProject("shell-only")
        await #expect {
            _ = try await project.build(store: storage.store) {
                $0.image = "debian:bookworm"
                $0.engine = "rkt"
            }
        } throws: { error in
            "\(error)".contains("unknown container engine 'rkt'")
        }
    }
}
