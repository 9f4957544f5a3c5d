import CairnTestSupport
import Foundation
import Testing

@testable import CairnRunner

@Suite("The container engine: image identity, build containers, their changes and their filesystem")
struct ContainerEngineTests {
    let engine: ContainerEngine

    init() {
        // Where podman is missing, the tests that need it are skipped by their gate and the others never run it.
        engine = (try? ContainerEngine.locate(nil)) ?? ContainerEngine(kind: .podman, executable: "/usr/bin/podman")
    }

    /// A name no other test uses, so containers and images of parallel tests never meet.
    static func uniqueName(_ role: String) -> String {
        "cairn-test-\(role)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `script` in a shell started with the container's exec arguments, fed through standard input as a
    /// build's shell is.
    func run(
        _ script: String, in container: BuildContainer, directory: String = "/",
        environment: [String: String] = [:]
    ) async throws -> ChildProcess.Result {
        let scratch = try TemporaryDirectory(prefix: "cairn-exec")
        let input = scratch.appending("script.sh")
        try Data(script.utf8).write(to: input)
        let arguments = container.execArguments(
            shell: "/bin/sh", workingDirectory: directory, environmentNames: environment.keys.sorted())
        return try await ChildProcess.run(
            arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, input: input)
    }

    /// Starts a container of the busybox image, hands it to `body` and removes it, also when `body` throws.
    func withContainer<T>(
        mounts: [ContainerMount] = [], network: String? = nil, privileged: Bool = false,
        _ body: (BuildContainer) async throws -> T
    ) async throws -> T {
        let container = try await engine.startContainer(
            image: try await ContainerImages.busybox(), name: Self.uniqueName("run"), mounts: mounts, network: network,
            privileged: privileged)
        do {
            let result = try await body(container)
            try await container.remove()
            return result
        } catch {
            try? await container.remove()
            throw error
        }
    }

    /// The names of the containers, running or not, that carry `label`.
    func containers(labelled label: String) async throws -> [String] {
        try await ChildProcess.output(
            ["podman", "ps", "--all", "--filter", "label=\(label)", "--format", "{{.Names}}"], in: "/"
        )
        .split(separator: "\n").map(String.init)
    }

    @Test("docker's diff lines and podman's JSON read the same, and the filter drops mounts and engine files")
    func diffParsing() throws {
        let lines = BuildContainer.parseDiffLines("A /opt/a b\nC /usr\nD /bin/tar\nnonsense\n")
        #expect(lines == [.init(.added, "/opt/a b"), .init(.changed, "/usr"), .init(.deleted, "/bin/tar")])
        let json = try BuildContainer.decodePodmanDiff(
            #"{"changed": ["/usr"], "added": ["/opt/a b"], "deleted": ["/bin/tar"]}"#, container: "c")
        #expect(Set(json) == Set(lines))

        let engine = ContainerEngine(kind: .podman, executable: "/usr/bin/podman")
        let container = BuildContainer(engine: engine, name: "c", mounts: ["/codebuild/output/src1/src/"])
        let excluded = [
            "/codebuild", "/codebuild/output/src1/src", "/codebuild/output/src1/src/a", "/proc/1", "/dev", "/etc/hosts",
            "/run/.containerenv", "/",
        ]
        for path in excluded { #expect(container.isExcluded(path), "\(path)") }
        let kept = ["/codebuild/output/other", "/usr/local/bin/jq", "/etc", "/etc/hostsfile", "/devices", "/run/lock"]
        for path in kept { #expect(!container.isExcluded(path), "\(path)") }
    }

    @Test("an unknown engine and a missing one are one line naming the fix")
    func locateErrors() throws {
        let unknown = #expect(throws: ContainerEngineError.self) { try ContainerEngine.locate("rkt") }
        #expect(unknown?.code == .engineNotInstalled)
        #expect(unknown?.description == "unknown container engine 'rkt': use podman (the default) or docker")
        let empty = try TemporaryDirectory(prefix: "cairn-no-engines")
        let podman = #expect(throws: ContainerEngineError.self) { try ContainerEngine.locate(nil, path: empty.path) }
        #expect(
            podman?.description
                == "podman is not installed: install it (apt-get install podman runc) or use --engine docker")
        let docker = #expect(throws: ContainerEngineError.self) {
            try ContainerEngine.locate("docker", path: empty.path)
        }
        #expect(
            docker?.description.hasPrefix("docker is not installed: install it (apt-get install docker.io)") == true)
    }

    @Test(
        "an image's digest is its content: stable, the same by name and by ID, new when the tag moves",
        .requires("podman", "busybox"))
    func imageDigest() async throws {
        let base = try await ContainerImages.busybox()
        let digest = try await engine.imageDigest(base)
        #expect(digest.hasPrefix("sha256:") && digest.count == 71)
        #expect(try await engine.imageDigest(base) == digest)
        #expect(try await engine.imageDigest(digest) == digest)

        let child = "localhost/" + Self.uniqueName("child")
        let context = try TemporaryDirectory(prefix: "cairn-image")
        var digests: [String] = []
        for content in ["one", "two"] {
            try Data("FROM \(base)\nRUN echo \(content) > /content\n".utf8).write(
                to: context.appending("Containerfile"))
            try await ChildProcess.output(
                ["podman", "build", "--pull=never", "--network", "none", "--tag", child, "."], in: context.path)
            digests.append(try await engine.imageDigest(child))
        }
        // By ID: the first build lost its tag to the second.
        try await ChildProcess.output(["podman", "rmi", "--force"] + digests, in: "/")
        #expect(Set(digests + [digest]).count == 3)
    }

    @Test("an image that is neither here nor pullable is named in the error", .requires("podman"))
    func unknownImage() async throws {
        let image = "localhost/" + Self.uniqueName("missing")
        let error = await #expect(throws: ContainerEngineError.self) { try await engine.imageDigest(image) }
        #expect(error?.code == .unknownImage)
        #expect(
            error?.description.contains("image '\(image)' is not on this machine and podman cannot pull it") == true)
    }

    @Test(
        "a started container runs exec'd shells that read commands from standard input, and outlives them",
        .requires("podman", "busybox"))
    func execShells() async throws {
        try await withContainer { container in
            let first = try await run(
                "echo \"$GREETING from $(pwd)\"\necho kept > /root/state\nexit 3\n", in: container, directory: "/tmp",
                environment: ["GREETING": "hello"])
            #expect(first.status == 3)
            #expect(first.output == "hello from /tmp\n")
            let second = try await run("cat /root/state; echo \"[$GREETING]\"", in: container)
            #expect(second.status == 0)
            #expect(second.output == "kept\n[]\n")
        }
    }

    @Test(
        "signalProcesses() interrupts the build's shell and what it runs, and the container stays up",
        .requires("podman", "busybox"))
    func signals() async throws {
        try await withContainer { container in
            let processes = "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done 2>/dev/null"
            async let interrupted = run("sleep 60\necho not interrupted\n", in: container)
            var started = false
            for _ in 0..<100 where !started {
                started = try await run(processes, in: container).output.contains("sleep 60 ")
                if !started { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(started)
            try await container.signalProcesses(SIGINT)
            let result = try await interrupted
            #expect(result.status == 130)
            #expect(!result.output.contains("not interrupted"))
            #expect(try await !run(processes, in: container).output.contains("sleep 60"))
        }
    }

    @Test(
        "changes() reports what a build added, changed and deleted, but not its mounts or virtual filesystems",
        .requires("podman", "busybox"))
    func changes() async throws {
        let source = try TemporaryDirectory(prefix: "cairn-src")
        let target = "/codebuild/output/src1/src"
        let mounts = [ContainerMount(host: source.path, container: target)]
        try await withContainer(mounts: mounts) { container in
            let script = """
                set -e
                echo tool > /usr/local/bin/tool
                rm /bin/tar
                echo artifact > \(target)/artifact
                mkdir -p /opt/cache && echo c > /opt/cache/entry
                echo scratch > /tmp/scratch
                """
            #expect(try await run(script, in: container).status == 0)
            let changes = try await container.changes()
            #expect(try String(contentsOf: source.appending("artifact"), encoding: .utf8) == "artifact\n")
            for expected in [
                ContainerChange(.added, "/usr/local/bin/tool"), ContainerChange(.deleted, "/bin/tar"),
                ContainerChange(.added, "/opt"), ContainerChange(.added, "/opt/cache/entry"),
                ContainerChange(.added, "/tmp/scratch"), ContainerChange(.changed, "/usr/local/bin"),
            ] {
                #expect(changes.contains(expected), "\(expected) missing from \(changes)")
            }
            let outside = ["/codebuild", "/proc", "/sys", "/dev", "/etc/hosts", "/etc/hostname", "/run/.containerenv"]
            let excluded = changes.filter { change in
                outside.contains { change.path == $0 || change.path.hasPrefix($0 + "/") }
            }
            #expect(excluded.isEmpty)
            #expect(changes.map(\.path) == changes.map(\.path).sorted())
        }
    }

    @Test(
        "mountRoot() lets the host read what the container wrote and write what it then sees",
        .requires("podman", "busybox", root: true))
    func mountRoot() async throws {
        try await withContainer { container in
            #expect(try await run("echo from-container > /usr/local/bin/tool", in: container).status == 0)
            let root = try await container.mountRoot()
            #expect(try String(contentsOfFile: root + "/usr/local/bin/tool", encoding: .utf8) == "from-container\n")
            try Data("from-host\n".utf8).write(to: URL(fileURLWithPath: root + "/root/restored"))
            let seen = try await run("cat /root/restored", in: container)
            #expect(seen.output == "from-host\n")
            #expect(try await container.changes().contains(ContainerChange(.added, "/root/restored")))
            try await container.unmount()
        }
    }

    @Test(
        "remove() leaves no container behind, and removeLeftovers() removes only those of dead builds",
        .requires("podman", "busybox"))
    func removal() async throws {
        let container = try await engine.startContainer(
            image: try await ContainerImages.busybox(), name: Self.uniqueName("remove"))
        let label = "\(ContainerEngine.buildLabel)=\(container.name)"
        #expect(try await containers(labelled: label) == [container.name])
        #expect(try await engine.removeLeftovers(label: label).isEmpty)
        #expect(try await containers(labelled: label) == [container.name])
        try await container.remove()
        #expect(try await containers(labelled: label).isEmpty)
        try await container.remove()

        // A build that died: its container names a process that has ended.
        let ended = try await ChildProcess.run(["sh", "-c", "echo $$"]).output.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let orphan = Self.uniqueName("orphan")
        try await ChildProcess.output(
            [
                "podman", "run", "--detach", "--interactive", "--name", orphan, "--label",
                "\(ContainerEngine.buildLabel)=\(orphan)", "--label", "\(ContainerEngine.ownerLabel)=\(ended)",
                "--entrypoint", "/bin/sh", try await ContainerImages.busybox(),
            ], in: "/")
        // A container build starting at the same time in another test sweeps leftovers too: the orphan is gone
        // either way, removed by this call or by that one.
        let removed = try await engine.removeLeftovers(label: "\(ContainerEngine.buildLabel)=\(orphan)")
        #expect(removed == [orphan] || removed.isEmpty)
        #expect(try await containers(labelled: "\(ContainerEngine.buildLabel)=\(orphan)").isEmpty)
    }

    @Test(
        "a container that cannot start leaves nothing behind, and a taken name is not taken away",
        .requires("podman", "busybox"))
    func failedStarts() async throws {
        // An image without /bin/sh: the container is created, then fails to start.
        let empty = try TemporaryDirectory(prefix: "cairn-empty-image")
        let image = "localhost/" + Self.uniqueName("empty")
        try await ChildProcess.output(
            ["tar", "-C", empty.path, "-cf", "rootfs.tar", "--exclude", "rootfs.tar", "."], in: empty.path)
        try await ChildProcess.output(["podman", "import", "rootfs.tar", image], in: empty.path)
        let name = Self.uniqueName("nosh")
        let error = await #expect(throws: ContainerEngineError.self) {
            try await engine.startContainer(image: image, name: name)
        }
        #expect(error?.description.hasPrefix("cannot start a container of \(image) with podman: ") == true)
        #expect(try await containers(labelled: "\(ContainerEngine.buildLabel)=\(name)").isEmpty)
        try await ChildProcess.output(["podman", "rmi", image], in: "/")

        try await withContainer { running in
            await #expect(throws: ContainerEngineError.self) {
                try await engine.startContainer(image: try await ContainerImages.busybox(), name: running.name)
            }
            let alive = try await run("echo alive", in: running)
            #expect(alive.output == "alive\n")
        }
    }

    @Test("a container with network none has only loopback; the host network is more", .requires("podman", "busybox"))
    func network() async throws {
        let interfaces = "sed -n 's/^ *\\([^:]*\\):.*/\\1/p' /proc/net/dev | sort"
        let isolated = try await withContainer(network: "none") { try await run(interfaces, in: $0) }
        #expect(isolated.output == "lo\n")
        let host = try await withContainer(network: "host") { try await run(interfaces, in: $0) }
        #expect(host.output.split(separator: "\n").count > 1)
    }

    @Test("a privileged container can mount filesystems; an ordinary one cannot", .requires("podman", "busybox"))
    func privileged() async throws {
        let mount = "mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && echo mounted"
        let ordinary = try await withContainer { try await run(mount, in: $0) }
        #expect(ordinary.status != 0)
        let privileged = try await withContainer(privileged: true) { try await run(mount, in: $0) }
        #expect(privileged.output == "mounted\n")
    }

    /// A real build image would carry podman itself; this one borrows the host's `/usr` (the same Debian release,
    /// merged `/usr`) and its `containers.conf` rather than downloading podman into a test image.
    @Test(
        "a privileged container can build and run an image with podman; an ordinary one cannot",
        .requires("podman", "busybox", root: true, images: [ContainerImages.bookworm]))
    func nestedBuild() async throws {
        let context = try TemporaryDirectory(prefix: "cairn-nested")
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: context.appending("busybox").path)
        try Data(
            """
            FROM scratch
            COPY busybox /bin/busybox
            RUN ["/bin/busybox", "sh", "-c", "echo built > /built"]
            """.utf8
        ).write(to: context.appending("Containerfile"))
        let mounts = [
            ContainerMount(host: "/usr", container: "/usr", readOnly: true),
            ContainerMount(host: "/etc/containers", container: "/etc/containers", readOnly: true),
            ContainerMount(host: context.path, container: "/context", readOnly: true),
        ]
        let script = """
            podman='podman --root /var/tmp/storage --runroot /run/nested --storage-driver vfs'
            $podman build --network none --tag localhost/nested /context >/dev/null 2>&1 || exit 1
            $podman run --rm localhost/nested /bin/busybox cat /built
            """
        var outputs: [Bool: ChildProcess.Result] = [:]
        for privileged in [false, true] {
            let container = try await engine.startContainer(
                image: ContainerImages.bookworm, name: Self.uniqueName("nested"), mounts: mounts,
                privileged: privileged)
            outputs[privileged] = try? await run(script, in: container)
            try await container.remove()
        }
        #expect(outputs[true]?.output == "built\n")
        #expect(outputs[false]?.status == 1)
    }

    @Test(
        "the Debian image runs Python and installs jq offline, which changes() then reports under /usr",
        .requires("podman", images: [ContainerImages.bookworm]))
    func bookworm() async throws {
        let container = try await engine.startContainer(
            image: try await engine.imageDigest(ContainerImages.bookworm), name: Self.uniqueName("bookworm"),
            network: "none")
        do {
            let python = try await run("python3 -c 'import venv, sys; print(sys.version_info[0])'", in: container)
            #expect(python.output == "3\n")
            let install = try await run(
                "apt-get install -y -qq --no-download jq >/dev/null && echo '{\"a\":1}' | jq .a", in: container)
            #expect(install.output.hasSuffix("1\n"), "\(install.output)")
            let changes = try await container.changes()
            #expect(changes.contains(ContainerChange(.added, "/usr/bin/jq")))
        } catch {
            try? await container.remove()
            throw error
        }
        try await container.remove()
    }
}
