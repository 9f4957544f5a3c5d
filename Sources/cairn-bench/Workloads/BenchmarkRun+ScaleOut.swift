import CairnSigV4
import Foundation

extension BenchmarkRun {
    /// One way of running Cairn in the scale workload: its nodes, and the endpoint clients use.
    struct Deployment {
        let system: String
        let nodes: [CairnInstance]
        let balancer: BalancerInstance?
        let backend: ScaleOutBackend?

        var endpoint: ObjectEndpoint {
            guard let balancer else { return nodes[0].endpoint }
            return ObjectEndpoint(
                system: system, baseURL: "http://127.0.0.1:\(balancer.port)", prefix: "/\(CairnInstance.bucket)",
                signer: SigV4Signer(
                    accessKeyID: CairnInstance.accessKeyID, secretAccessKey: CairnInstance.secretAccessKey,
                    region: "us-east-1"))
        }

        /// CPU seconds of the Cairn nodes so far, and of the backend (PostgreSQL, SeaweedFS) so far.
        var cpu: (nodes: Double, backend: Double) {
            (ProcessCPU.seconds(nodes.map(\.child.pid)), backend.map { ProcessCPU.seconds($0.processIDs()) } ?? 0)
        }

        func stop() async {
            await balancer?.stop()
            for node in nodes { await node.stop() }
        }
    }

    static let embeddedSystem = "cairn, 1 node, embedded"
    static let sharedSystem = "cairn, 1 node, PostgreSQL + SeaweedFS"
    static let clusterSystem = "cairn, 3 nodes, PostgreSQL + SeaweedFS, nginx round robin"

    func scaleSmallWorkload(_ method: String, connections: Int) -> String {
        "scale: 4 KiB \(method), \(connections) connections"
    }
    var scaleLargePutWorkload: String { "scale: \(settings.largeLabel) PUT (curl, one stream)" }
    var scaleLargeGetWorkload: String { "scale: \(settings.largeLabel) GET (curl, one stream)" }

    /// Starts one deployment: a node on its own data directory, or `count` nodes on a new database and blob prefix
    /// of the shared backend (behind the balancer when there are several).
    func startDeployment(_ system: String, count: Int, backend: ScaleOutBackend?, run: Int) async throws -> Deployment {
        let settings = try await backend?.nodeSettings() ?? [:]
        var nodes: [CairnInstance] = []
        for index in 0..<count {
            let name = "cairn-scale-\(run + 1)-\(backend == nil ? "embedded" : "shared")-\(count)-\(index + 1)"
            nodes.append(
                try await CairnInstance(
                    executable: self.settings.cairnExecutable,
                    dataDirectory: workDirectory.appendingPathComponent(name),
                    logDirectory: logDirectory, name: name, settings: settings, system: system))
        }
        let balancer =
            count > 1
            ? try await BalancerInstance(
                upstreamPorts: nodes.map(\.port), workDirectory: workDirectory, logDirectory: logDirectory) : nil
        return Deployment(system: system, nodes: nodes, balancer: balancer, backend: backend)
    }

    /// Cairn alone on its embedded store, on PostgreSQL + SeaweedFS, and as three nodes on them behind a round-robin
    /// balancer: 4 KiB PUT and GET at 16 and 64 connections (wrk) with the CPU each request costs the nodes and the
    /// backend, and one large object up and down (curl).
    func measureScaleOut() async throws {
        guard Shell.exists("wrk") else { throw BenchError("wrk is not installed (`apt-get install wrk`)") }
        guard Shell.exists("nginx") else { throw BenchError("nginx is not installed (`apt-get install nginx`)") }
        let backend = try await ScaleOutBackend(run: self, name: "scale")
        do {
            try await measureScaleOut(backend: backend)
        } catch {
            await backend.stop()
            throw error
        }
        await backend.stop()
    }

    private func measureScaleOut(backend: ScaleOutBackend) async throws {
        let source = workDirectory.appendingPathComponent("scale-large.bin")
        try Self.writeSourceFile(source, bytes: settings.largeObjectBytes)
        let shapes: [(String, Int, ScaleOutBackend?)] = [
            (Self.embeddedSystem, 1, nil), (Self.sharedSystem, 1, backend), (Self.clusterSystem, 3, backend),
        ]
        // Samples by row, recorded once every run is done (rows keep the order they were first measured in).
        var rows: [(workload: String, system: String, metric: String, unit: String, note: String?)] = []
        var samples: [String: [Double]] = [:]
        func add(
            _ workload: String, _ system: String, _ metric: String, _ unit: String, _ value: Double, note: String? = nil
        ) {
            let id = "\(workload)|\(system)|\(metric)"
            if samples[id] == nil { rows.append((workload, system, metric, unit, note)) }
            samples[id, default: []].append(value)
        }
        for run in 0..<settings.runs {
            try Self.stamp(source, run: run)
            for (system, count, shared) in shapes {
                let deployment = try await startDeployment(system, count: count, backend: shared, run: run)
                let endpoint = deployment.endpoint
                try await client.createBucket(endpoint)
                for connections in [16, 64] {
                    let load = try WrkLoad(
                        connections: connections, duration: settings.phaseDuration,
                        directory: workDirectory.appendingPathComponent("wrk-scale"), keys: settings.smallObjectKeys)
                    let prefix = "scale-\(run)-\(connections)"
                    let start = deployment.cpu
                    let put = try await load.put(endpoint, prefix: prefix, size: settings.smallObjectBytes)
                    let between = deployment.cpu
                    let get = try await load.get(endpoint, prefix: prefix, after: put, size: settings.smallObjectBytes)
                    let end = deployment.cpu
                    for (method, result, before, after) in [("PUT", put, start, between), ("GET", get, between, end)] {
                        let workload = scaleSmallWorkload(method, connections: connections)
                        let requests = Double(max(result.requests, 1))
                        add(workload, system, "throughput", "ops/s", result.requestsPerSecond)
                        add(workload, system, "p99 latency", "ms", result.p99 * 1000)
                        add(
                            workload, system, "CPU per request, Cairn nodes", "µs",
                            (after.nodes - before.nodes) / requests * 1e6,
                            note: count > 1 ? "summed over the \(count) nodes; each node served a third" : nil)
                        if shared != nil {
                            add(
                                workload, system, "CPU per request, PostgreSQL + SeaweedFS", "µs",
                                (after.backend - before.backend) / requests * 1e6)
                        }
                    }
                    progress(
                        "  run \(run + 1) \(system), \(connections) connections: PUT \(Int(put.requestsPerSecond)) ops/s, GET \(Int(get.requestsPerSecond)) ops/s"
                    )
                }
                let key = "scale-large-\(run)"
                let put = try await CurlTransfer.put(file: source, url: endpoint.plainURL(method: "PUT", key: key))
                let get = try await CurlTransfer.get(
                    url: endpoint.plainURL(method: "GET", key: key), expectedBytes: settings.largeObjectBytes)
                add(scaleLargePutWorkload, system, "throughput", "MB/s", put / 1e6)
                add(scaleLargeGetWorkload, system, "throughput", "MB/s", get / 1e6)
                await deployment.stop()
            }
        }
        for row in rows {
            record(
                row.workload, row.system, row.metric, row.unit,
                samples["\(row.workload)|\(row.system)|\(row.metric)"] ?? [],
                note: row.note)
        }
        try? FileManager.default.removeItem(at: source)
    }
}
