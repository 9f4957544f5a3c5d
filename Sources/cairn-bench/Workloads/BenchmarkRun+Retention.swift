import CairnCore
import Foundation

extension BenchmarkRun {
    /// The object counts the retention job is timed over: the smaller one shows whether memory stays flat.
    var retentionCounts: [Int] { settings.smoke ? [1_000, 10_000] : [100_000, 1_000_000] }

    func retentionWorkload(_ count: Int) -> String {
        let label = count >= 1_000_000 && count % 1_000_000 == 0 ? "\(count / 1_000_000) M" : "\(count / 1_000) k"
        return "retention job over \(label) objects, all expired"
    }

    /// `cairn gc --data-dir` over a store whose metadata holds N objects (rows copied by the metadata store's bulk
    /// copy, as for the start-up workload), every one expired by an `expire_after_days: 1` rule evaluated two days later: the
    /// job deletes all N rows in batches and sweeps the one blob they named. Wall time and the job's peak RSS.
    func measureRetention() async throws {
        let configuration = workDirectory.appendingPathComponent("gc.yaml")
        try """
        retention:
          expire_after_days: 1
          grace_period_seconds: 60
        """.write(to: configuration, atomically: true, encoding: .utf8)
        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(2 * 86_400))
        for count in retentionCounts {
            var seconds: [Double] = []
            var peaks: [Double] = []
            for run in 0..<settings.runs {
                let dataDirectory = workDirectory.appendingPathComponent("cairn-retention-\(count)-\(run)")
                defer { try? FileManager.default.removeItem(at: dataDirectory) }
                try await seedStore(dataDirectory, name: "cairn-retention-seed")
                try await Self.fillMetadata(dataDirectory, bucket: CairnInstance.bucket, objects: count)
                // VmHWM of the job itself, sampled while it runs (the rusage of a child started with posix_spawn
                // would also count the benchmark's own memory, which it shares until exec).
                let started = ContinuousClock.now
                let job = try ChildProcess(
                    name: "cairn-gc-\(count)-\(run)",
                    arguments: [
                        settings.cairnExecutable.path, "gc", "--data-dir", dataDirectory.path, "--config",
                        configuration.path, "--now", later, "--json",
                    ],
                    logDirectory: logDirectory
                )
                var peak = 0
                while job.isRunning {
                    peak = max(peak, job.peakResidentBytes() ?? 0)
                    try await Task.sleep(for: .milliseconds(5))
                }
                let elapsed = (ContinuousClock.now - started).seconds
                await job.stop()  // it has exited: this only takes it off the list of processes to stop
                guard job.exitStatus == 0 else {
                    throw BenchError("cairn gc exited with \(job.exitStatus ?? -1): \(job.log.suffix(2000))")
                }
                let left = try SQLiteMetadataStore.counts(dataDirectory: dataDirectory.path).objects
                guard left == 0 else {
                    throw BenchError(
                        "cairn gc left \(left) of \(count + 1) expired objects: \(job.log.prefix(2000))")
                }
                seconds.append(elapsed)
                peaks.append(Double(peak) / 1e6)
            }
            let workload = retentionWorkload(count)
            record(
                workload, "cairn", "wall time", "s", seconds,
                note: "`cairn gc --data-dir` (offline), batches of the default 1,000 rows; includes process start-up")
            record(
                workload, "cairn", "peak RSS", "MB", peaks, note: "VmHWM of the cairn gc process, sampled every 5 ms")
        }
    }

    /// Starts a server on a fresh data directory, creates the bucket, PUTs the 4 KiB object `seed` and stops it:
    /// the store ``fillMetadata(_:objects:)`` copies rows from. Returns the server's seconds to healthy.
    @discardableResult
    func seedStore(_ dataDirectory: URL, name: String) async throws -> Double {
        let cairn = try await CairnInstance(
            executable: settings.cairnExecutable, dataDirectory: dataDirectory, logDirectory: logDirectory, name: name
        )
        do {
            try await client.createBucket(cairn.endpoint)
            let seed = workDirectory.appendingPathComponent("seed.bin")
            try Self.writeSourceFile(seed, bytes: settings.smallObjectBytes)
            _ = try await CurlTransfer.put(file: seed, url: cairn.endpoint.plainURL(method: "PUT", key: "seed"))
        } catch {
            await cairn.stop()
            throw error
        }
        await cairn.stop()
        return cairn.secondsToHealthy
    }
}
