import Foundation

extension BenchmarkRun {
    var smallPutWorkload: String { "4 KiB PUT, \(settings.connections) connections" }
    var smallGetWorkload: String { "4 KiB GET, \(settings.connections) connections" }
    var healthWorkload: String {
        "HTTP layer alone: GET /_cairn/health (no auth, no storage), \(settings.connections) connections"
    }

    /// 4 KiB objects from `connections` keep-alive connections: a PUT phase writing fresh keys, then a GET phase
    /// reading them back, against Cairn, nginx and moto with the same client, runs interleaved across systems.
    func measureSmallObjects() async throws {
        let load = SmallObjectLoad(
            client: client, connections: settings.connections, duration: settings.phaseDuration,
            maxRequestsPerWorker: settings.maxRequestsPerWorker
        )
        var template = [UInt8](repeating: 0, count: settings.smallObjectBytes)
        var generator = SystemRandomNumberGenerator()
        for index in template.indices { template[index] = generator.next() }

        let cairn = try await CairnInstance(
            executable: settings.cairnExecutable, dataDirectory: workDirectory.appendingPathComponent("cairn-small"),
            logDirectory: logDirectory
        )
        let nginx =
            wants("nginx") ? try await NginxInstance(workDirectory: workDirectory, logDirectory: logDirectory) : nil
        let moto = wants("moto") ? try await MotoInstance(logDirectory: logDirectory) : nil
        let endpoints = [cairn.endpoint] + [nginx?.endpoint, moto?.endpoint].compactMap { $0 }
        for endpoint in endpoints { try await client.createBucket(endpoint) }

        var results: [String: (put: [SmallObjectLoad.Result], get: [SmallObjectLoad.Result])] = [:]
        var health: [SmallObjectLoad.Result] = []
        for run in 0..<settings.runs {
            // What the server's HTTP stack answers with no work behind it: the ceiling for any request.
            health.append(try await load.probe("http://127.0.0.1:\(cairn.port)/_cairn/health"))
            for endpoint in endpoints {
                let prefix = "small-\(run)"
                let (put, written) = try await load.put(endpoint, prefix: prefix, template: template)
                let get = try await load.get(endpoint, prefix: prefix, written: written, size: template.count)
                results[endpoint.system, default: ([], [])].put.append(put)
                results[endpoint.system, default: ([], [])].get.append(get)
                progress(
                    "  run \(run + 1) \(endpoint.system): PUT \(Int(put.requestsPerSecond)) ops/s, GET \(Int(get.requestsPerSecond)) ops/s"
                )
            }
        }
        await cairn.stop()
        await nginx?.stop()
        await moto?.stop()
        // The data directory (tens of thousands of small files) stays until the benchmark ends: on ext4 without a
        // journal, creating files is slow for minutes after that many are deleted, which would skew what follows.

        record(
            healthWorkload, "cairn", "throughput", "ops/s", health.map(\.requestsPerSecond),
            note: "the same client and connections; an upper bound for 4 KiB GETs through the same HTTP server stack")
        for endpoint in endpoints {
            guard let result = results[endpoint.system] else { continue }
            for (workload, phase) in [(smallPutWorkload, result.put), (smallGetWorkload, result.get)] {
                let note: String? =
                    switch (endpoint.system, workload == smallPutWorkload) {
                    case ("cairn", true): "SigV4 (UNSIGNED-PAYLOAD); blob and metadata fsynced before 200"
                    case ("nginx", true): "WebDAV PUT, no fsync"
                    case ("moto", true): "in memory, no fsync"
                    default: nil
                    }
                record(workload, endpoint.system, "throughput", "ops/s", phase.map(\.requestsPerSecond), note: note)
                record(workload, endpoint.system, "p50 latency", "ms", phase.map { $0.latencyPercentile(0.50) * 1000 })
                record(workload, endpoint.system, "p99 latency", "ms", phase.map { $0.latencyPercentile(0.99) * 1000 })
            }
        }
    }
}
