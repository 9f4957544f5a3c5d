import Foundation

extension BenchmarkRun {
    var memoryWorkload: String { "\(settings.memoryLabel) PUT then GET, one stream" }

    /// A fresh Cairn per run streams one large object in and out; its peak RSS (VmHWM) is read after each.
    func measureMemory() async throws {
        let size = settings.memoryObjectBytes
        let source = workDirectory.appendingPathComponent("memory.bin")
        try Self.writeSourceFile(source, bytes: size)
        defer { try? FileManager.default.removeItem(at: source) }
        var afterPut: [Double] = []
        var afterGet: [Double] = []
        var idle: [Double] = []
        for run in 0..<settings.runs {
            try Self.stamp(source, run: run)
            let cairn = try await CairnInstance(
                executable: settings.cairnExecutable,
                dataDirectory: workDirectory.appendingPathComponent("cairn-memory-\(run)"), logDirectory: logDirectory,
                name: "cairn-memory-\(run)"
            )
            do {
                try await client.createBucket(cairn.endpoint)
                idle.append(Double(cairn.child.peakResidentBytes() ?? 0) / 1e6)
                _ = try await CurlTransfer.put(file: source, url: cairn.endpoint.plainURL(method: "PUT", key: "memory"))
                afterPut.append(Double(cairn.child.peakResidentBytes() ?? 0) / 1e6)
                _ = try await CurlTransfer.get(
                    url: cairn.endpoint.plainURL(method: "GET", key: "memory"), expectedBytes: size
                )
                afterGet.append(Double(cairn.child.peakResidentBytes() ?? 0) / 1e6)
            } catch {
                await cairn.stop()
                throw error
            }
            await cairn.stop()
            try? FileManager.default.removeItem(at: cairn.dataDirectory)
        }
        record(memoryWorkload, "cairn", "peak RSS before the PUT", "MB", idle)
        record(memoryWorkload, "cairn", "peak RSS after the PUT", "MB", afterPut)
        record(memoryWorkload, "cairn", "peak RSS after the GET", "MB", afterGet, note: "VmHWM of the server process")
    }
}
