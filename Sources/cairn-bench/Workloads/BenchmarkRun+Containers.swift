import Foundation

extension BenchmarkRun {
    static let containerBaselineWorkload = "container: `podman run --rm IMAGE true` (the engine's own start-up)"
    static let containerColdWorkload = "container: cold `cairn build --image` (install writes under /usr, runs)"
    static let containerWarmWorkload =
        "container: warm rebuild (install's files under /usr restored into a fresh container)"

    /// `cairn build --image` against the embedded store: a cold build whose `install` writes random bytes under
    /// `/usr` inside the container, then the same build again (every phase restored into a new container), beside
    /// the engine starting a container of the image that does nothing.
    func measureContainers() async throws {
        let image = settings.containerImage
        guard Shell.exists("podman") else {
            report.omitted.append("container workloads: podman is not installed (apt-get install podman runc)")
            return
        }
        guard try await Shell.run(["podman", "image", "exists", image]).status == 0 else {
            report.omitted.append(
                "container workloads: podman has no image \(image) (build it with .ci/container-images, or pass "
                    + "--container-image)")
            return
        }
        let megabytes = settings.containerInstallBytes >> 20
        var baseline: [Double] = []
        var cold: [Double] = []
        var warm: [Double] = []
        for run in 0..<settings.runs {
            let started = ContinuousClock.now
            try await Shell.check(["podman", "run", "--rm", "--network", "none", image, "true"])
            baseline.append((ContinuousClock.now - started).seconds)

            let root = workDirectory.appendingPathComponent("container-\(run)")
            let checkout = root.appendingPathComponent("checkout")
            try FileManager.default.createDirectory(at: checkout, withIntermediateDirectories: true)
            // A variable per run makes every run's first build a cold one.
            let buildspec = """
                version: 0.2
                env:
                  variables:
                    RUN: "\(UUID().uuidString)"
                phases:
                  install:
                    commands:
                      - head -c \(settings.containerInstallBytes) /dev/urandom > /usr/lib/cairn-bench.bin
                  build:
                    commands:
                      - sha256sum /usr/lib/cairn-bench.bin > digest.txt
                """
            try buildspec.write(
                to: checkout.appendingPathComponent("buildspec.yml"), atomically: true, encoding: .utf8)
            let command = [
                settings.cairnExecutable.path, "build", "--image", image, "--network", "none", "--cache-dir",
                root.appendingPathComponent("store").path, "--source-dir", checkout.path,
            ]
            var environment = ProcessInfo.processInfo.environment
            environment["XDG_CACHE_HOME"] = root.appendingPathComponent("cache").path
            environment["CAIRN_STORE"] = nil
            let coldStart = ContinuousClock.now
            let first = try await Shell.check(command, environment: environment)
            cold.append((ContinuousClock.now - coldStart).seconds)
            guard first.stdout.contains("2 ran, 0 restored") else {
                throw BenchError("the cold container build did not run both phases:\n\(first.stdout)")
            }
            let warmStart = ContinuousClock.now
            let second = try await Shell.check(command, environment: environment)
            warm.append((ContinuousClock.now - warmStart).seconds)
            guard second.stdout.contains("0 ran, 2 restored") else {
                throw BenchError("the warm container build did not restore both phases:\n\(second.stdout)")
            }
            try? FileManager.default.removeItem(at: root)
        }
        record(Self.containerBaselineWorkload, "machine", "wall time", "s", baseline, note: "podman, image \(image)")
        record(
            Self.containerColdWorkload, "cairn", "wall time", "s", cold,
            note: "\(megabytes) MB written under /usr by install; one container for the build")
        record(Self.containerWarmWorkload, "cairn", "wall time", "s", warm)
    }
}
