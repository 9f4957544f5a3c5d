import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

extension BenchmarkRun {
    var durabilityWorkload: String { "fsync before answering: sync calls per 4 KiB PUT (strace)" }

    /// Which systems make a PUT durable before they answer it: `strace -f -c` attached to every process of a system
    /// counts its fsync, fdatasync and sync_file_range calls while 200 PUTs of 4 KiB are sent one at a time (a second
    /// after the last is counted too). None at all means no PUT reached the disk before its answer.
    func measureDurability() async throws {
        guard Shell.exists("strace") else { throw BenchError("strace is not installed (`apt-get install strace`)") }
        let cairn = try await CairnInstance(
            executable: settings.cairnExecutable, dataDirectory: workDirectory.appendingPathComponent("cairn-sync"),
            logDirectory: logDirectory)
        var systems: [(ObjectEndpoint, () -> [Int32], String)] = [
            (cairn.endpoint, { [cairn.child.pid] }, "cairn serve")
        ]
        let nginx =
            wants("nginx") ? try await NginxInstance(workDirectory: workDirectory, logDirectory: logDirectory) : nil
        if let nginx { systems.append((nginx.endpoint, { ProcessCPU.children(of: nginx.child.pid) }, "nginx workers")) }
        let moto = wants("moto") ? try await MotoInstance(logDirectory: logDirectory) : nil
        if let moto { systems.append((moto.endpoint, { [moto.child.pid] }, "moto_server")) }
        let seaweed =
            wants("seaweedfs")
            ? try await SeaweedInstance(
                directory: workDirectory.appendingPathComponent("seaweed-sync"), logDirectory: logDirectory,
                client: client) : nil
        if let seaweed { systems.append((seaweed.endpoint, { [seaweed.child.pid] }, "weed server")) }
        var backend: ScaleOutBackend?
        do {
            backend = try await ScaleOutBackend(run: self, name: "sync")
        } catch {
            // The other systems' counts still stand; the missing row is reported with its reason.
            progress("  cairn (PostgreSQL + SeaweedFS) not measured: \(error)")
            report.failures.append("\(durabilityWorkload), cairn (PostgreSQL + SeaweedFS): \(error)")
        }
        var scaled: CairnInstance?
        if let backend {
            let node = try await CairnInstance(
                executable: settings.cairnExecutable,
                dataDirectory: workDirectory.appendingPathComponent("cairn-sync-postgres"), logDirectory: logDirectory,
                name: "cairn-sync-postgres", settings: try await backend.nodeSettings(),
                system: "cairn (PostgreSQL + SeaweedFS)")
            scaled = node
            systems.append(
                (node.endpoint, { [node.child.pid] + backend.processIDs() }, "cairn serve, PostgreSQL and weed server"))
        }
        var body = ByteBuffer(repeating: 0x61, count: settings.smallObjectBytes)
        for (endpoint, processes, traced) in systems {
            try await client.createBucket(endpoint)
            let calls = try await countSyncCalls(processes()) {
                for index in 0..<durabilityPuts {
                    body.setString("\(index)-", at: 0)
                    try await client.put(endpoint, key: "sync-\(index)", body: body)
                }
            }
            record(
                durabilityWorkload, endpoint.system, "sync calls per PUT", "calls",
                [Double(calls) / Double(durabilityPuts)], note: "traced: \(traced)")
        }
        await cairn.stop()
        await nginx?.stop()
        await moto?.stop()
        await seaweed?.stop()
        await scaled?.stop()
        await backend?.stop()
    }

    var durabilityPuts: Int { settings.smoke ? 20 : 200 }

    /// Counts the fsync, fdatasync and sync_file_range calls of `pids` (all their threads) while `work` runs.
    func countSyncCalls(_ pids: [Int32], during work: () async throws -> Void) async throws -> Int {
        let output = workDirectory.appendingPathComponent("strace-\(UUID().uuidString.prefix(8)).txt")
        let tracer = try ChildProcess(
            name: "strace",
            arguments: ["strace", "-f", "-c", "-e", "trace=fsync,fdatasync,sync_file_range", "-o", output.path]
                + pids.flatMap { ["-p", String($0)] },
            logDirectory: logDirectory)
        // strace attaches one thread at a time; it says so on stderr, once per process.
        let deadline = ContinuousClock.now + .seconds(10)
        while tracer.log.components(separatedBy: "attached").count <= pids.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(500))
        try await work()
        // Calls made after the answer (a background flush) are counted too: wait for them.
        try await Task.sleep(for: .seconds(1))
        await tracer.stop(signal: SIGINT)
        let table = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        var calls = 0
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let name = fields.last, ["fsync", "fdatasync", "sync_file_range"].contains(String(name)),
                fields.count >= 5, let count = Int(fields[3])
            else { continue }
            calls += count
        }
        return calls
    }
}
