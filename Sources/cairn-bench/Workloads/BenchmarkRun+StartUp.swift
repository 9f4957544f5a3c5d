import CairnCore
import Foundation

extension BenchmarkRun {
    var startUpWorkload: String {
        settings.startupObjects == 1_000_000
            ? "start-up with 1 M objects" : "start-up with \(settings.startupObjects) objects"
    }
    static let emptyStartUpWorkload = "start-up, empty store"

    /// Seconds from spawning `cairn serve` to the first 200 from `/_cairn/health`, on an empty store and on a
    /// store whose metadata holds `startupObjects` objects (rows written straight into SQLite, all naming one
    /// real blob, so that preparing the store takes seconds rather than hours of PUTs).
    func measureStartUp() async throws {
        let dataDirectory = workDirectory.appendingPathComponent("cairn-startup")
        var empty = [try await seedStore(dataDirectory, name: "cairn-startup-seed")]
        for run in 1..<max(2, settings.runs) where empty.count < settings.runs {
            let fresh = try await CairnInstance(
                executable: settings.cairnExecutable,
                dataDirectory: workDirectory.appendingPathComponent("cairn-startup-empty-\(run)"),
                logDirectory: logDirectory, name: "cairn-startup-empty-\(run)"
            )
            empty.append(fresh.secondsToHealthy)
            await fresh.stop()
            try? FileManager.default.removeItem(at: fresh.dataDirectory)
        }
        record(Self.emptyStartUpWorkload, "cairn", "seconds to healthy", "s", empty)

        let clock = ContinuousClock()
        let filled = clock.now
        try await Self.fillMetadata(
            dataDirectory, bucket: CairnInstance.bucket, objects: settings.startupObjects)
        progress(
            "  wrote \(settings.startupObjects) object rows in \(BenchmarkReport.format((clock.now - filled).seconds)) s"
        )

        var seconds: [Double] = []
        for run in 0..<settings.runs {
            let cairn = try await CairnInstance(
                executable: settings.cairnExecutable, dataDirectory: dataDirectory, logDirectory: logDirectory,
                name: "cairn-startup-\(run)"
            )
            seconds.append(cairn.secondsToHealthy)
            // The rows are real objects: the last one reads back through the S3 API.
            let last = String(format: "many/%08d", settings.startupObjects)
            let status = try await Shell.run([
                "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                cairn.endpoint.plainURL(method: "GET", key: last),
            ])
            await cairn.stop()
            guard status.stdout == "200" else {
                throw BenchError("GET \(last) on the filled store answered \(status.combined)")
            }
        }
        try? FileManager.default.removeItem(at: dataDirectory)
        record(
            startUpWorkload, "cairn", "seconds to healthy", "s", seconds,
            note: "from spawning the process to the first 200 from /_cairn/health")
    }

    /// Copies the `seed` object's rows `objects` times under keys `many/00000001`… through the metadata store's
    /// bulk copy, while no server runs, so that the server then opens a database in its resting state.
    static func fillMetadata(_ dataDirectory: URL, bucket: String, objects: Int) async throws {
        let metadata = try SQLiteMetadataStore(dataDirectory: dataDirectory.path)
        try await metadata.replicateObject(bucket: bucket, key: "seed", count: objects, keyPrefix: "many/")
        let count = try SQLiteMetadataStore.counts(dataDirectory: dataDirectory.path).objects
        guard count == objects + 1 else {
            throw BenchError("filling the metadata wrote \(count - 1) objects, not \(objects)")
        }
    }
}
