import Foundation

extension BenchmarkRun {
    static let sha256Workload = "SHA-256 (`openssl speed -evp sha256`, 1 MiB blocks)"
    static let md5Workload = "MD5 (`openssl speed -evp md5`, 1 MiB blocks)"
    static let diskWriteWorkload = "disk write (`dd conv=fdatasync`)"
    static let diskReadWorkload = "disk read (`dd iflag=direct`)"
    static let loopbackWorkload = "loopback TCP, one stream"

    /// SHA-256 and MD5 rates (Cairn hashes every upload with both), disk write and read, loopback.
    func measureMachineLimits() async throws {
        var sha256: [Double] = []
        var md5: [Double] = []
        var write: [Double] = []
        var read: [Double] = []
        var loopback: [Double] = []
        let file = workDirectory.appendingPathComponent("dd.bin")
        for _ in 0..<settings.runs {
            sha256.append(try await MachineLimits.digestRate("sha256", seconds: settings.digestSeconds) / 1e6)
            md5.append(try await MachineLimits.digestRate("md5", seconds: settings.digestSeconds) / 1e6)
            write.append(try await MachineLimits.diskWriteRate(file: file, bytes: settings.machineProbeBytes) / 1e6)
            read.append(try await MachineLimits.diskReadRate(file: file) / 1e6)
            try? FileManager.default.removeItem(at: file)
            loopback.append(try await MachineLimits.loopbackRate(bytes: settings.machineProbeBytes * 2) / 1e6)
        }
        record(Self.sha256Workload, "machine", "throughput", "MB/s", sha256)
        record(Self.md5Workload, "machine", "throughput", "MB/s", md5)
        record(Self.diskWriteWorkload, "machine", "throughput", "MB/s", write)
        record(Self.diskReadWorkload, "machine", "throughput", "MB/s", read)
        record(Self.loopbackWorkload, "machine", "throughput", "MB/s", loopback)
    }
}
