import Foundation

extension BenchmarkRun {
    var smallPutWorkload: String { "4 KiB PUT, \(settings.connections) connections" }
    var smallGetWorkload: String { "4 KiB GET, \(settings.connections) connections" }
    var healthWorkload: String {
        "HTTP stack: GET /_cairn/health (no auth, one SQLite read), \(settings.connections) connections"
    }

    /// 4 KiB objects from `connections` keep-alive connections (`wrk`): a PUT phase writing fresh keys, then a GET
    /// phase reading them back, against Cairn, nginx, moto and SeaweedFS with the same client, runs interleaved across systems.
    func measureSmallObjects() async throws {
        guard Shell.exists("wrk") else { throw BenchError("wrk is not installed (`apt-get install wrk`)") }
        let load = try WrkLoad(
            connections: settings.connections, duration: settings.phaseDuration,
            directory: workDirectory.appendingPathComponent("wrk"), keys: settings.smallObjectKeys
        )
        let size = settings.smallObjectBytes

        var results: [String: (put: [WrkLoad.Result], get: [WrkLoad.Result])] = [:]
        var health: [WrkLoad.Result] = []
        var systems: [String] = []
        for run in 0..<settings.runs {
            // Every run starts each system afresh, so that every run measures the same thing: a store holding one
            // PUT phase's keys. A server kept across runs would hold two and three times as many in the later runs,
            // more than its caches, and their GETs would measure a bigger store (for Cairn, 20–30 % fewer GETs).
            // Data directories (Cairn's is one per run) stay until the benchmark ends: on ext4 without a journal,
            // creating files is slow for minutes after many are deleted, which would skew what follows.
            let cairn = try await CairnInstance(
                executable: settings.cairnExecutable,
                dataDirectory: workDirectory.appendingPathComponent("cairn-small-\(run + 1)"),
                logDirectory: logDirectory
            )
            let nginx =
                wants("nginx") ? try await NginxInstance(workDirectory: workDirectory, logDirectory: logDirectory) : nil
            let moto = wants("moto") ? try await MotoInstance(logDirectory: logDirectory) : nil
            let seaweed =
                wants("seaweedfs")
                ? try await SeaweedInstance(
                    directory: workDirectory.appendingPathComponent("seaweed-small-\(run + 1)"),
                    logDirectory: logDirectory, client: client) : nil
            let endpoints = [cairn.endpoint] + [nginx?.endpoint, moto?.endpoint, seaweed?.endpoint].compactMap { $0 }
            systems = endpoints.map(\.system)
            for endpoint in endpoints { try await client.createBucket(endpoint) }

            // What the server's HTTP stack answers for a request with almost no work behind it.
            health.append(try await load.probe(port: cairn.port, path: "/_cairn/health"))
            for endpoint in endpoints {
                let prefix = "small-\(run)"
                let put = try await load.put(endpoint, prefix: prefix, size: size)
                let get = try await load.get(endpoint, prefix: prefix, after: put, size: size)
                results[endpoint.system, default: ([], [])].put.append(put)
                results[endpoint.system, default: ([], [])].get.append(get)
                progress(
                    "  run \(run + 1) \(endpoint.system): PUT \(Int(put.requestsPerSecond)) ops/s, GET \(Int(get.requestsPerSecond)) ops/s"
                )
            }
            await cairn.stop()
            await nginx?.stop()
            await moto?.stop()
            await seaweed?.stop()
        }

        record(
            healthWorkload, "cairn", "throughput", "ops/s", health.map(\.requestsPerSecond),
            note:
                "wrk, the same connections: the rate of a request that does almost nothing through the same HTTP stack")
        for system in systems {
            guard let result = results[system] else { continue }
            for (workload, phase) in [(smallPutWorkload, result.put), (smallGetWorkload, result.get)] {
                let note: String? =
                    switch (system, workload == smallPutWorkload) {
                    case ("cairn", true): "presigned SigV4 URLs; content and metadata durable (fsync) before 200"
                    case ("nginx", true): "WebDAV PUT, no fsync"
                    case ("moto", true): "in memory, no fsync"
                    case ("seaweedfs", true): "S3 gateway, filer and volume server at their defaults; no fsync"
                    default: nil
                    }
                record(workload, system, "throughput", "ops/s", phase.map(\.requestsPerSecond), note: note)
                record(workload, system, "p50 latency", "ms", phase.map { $0.p50 * 1000 })
                record(workload, system, "p99 latency", "ms", phase.map { $0.p99 * 1000 })
            }
        }
    }
}
