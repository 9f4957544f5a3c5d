import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension BenchmarkRun {
    var largePutWorkload: String { "\(settings.largeLabel) PUT (curl, one stream)" }
    var largeGetWorkload: String { "\(settings.largeLabel) GET (curl, one stream)" }

    /// One large object up and down with curl, against Cairn (presigned URLs), nginx (WebDAV PUT, static GET) and
    /// SeaweedFS's S3 gateway (presigned URLs), alternating the systems run by run so that noise spreads over both.
    func measureLargeObjects() async throws {
        let size = settings.largeObjectBytes
        let source = workDirectory.appendingPathComponent("large.bin")
        try Self.writeSourceFile(source, bytes: size)
        let cairn = try await CairnInstance(
            executable: settings.cairnExecutable, dataDirectory: workDirectory.appendingPathComponent("cairn-large"),
            logDirectory: logDirectory
        )
        let nginx =
            wants("nginx") ? try await NginxInstance(workDirectory: workDirectory, logDirectory: logDirectory) : nil
        let seaweed =
            wants("seaweedfs")
            ? try await SeaweedInstance(
                directory: workDirectory.appendingPathComponent("seaweed-large"), logDirectory: logDirectory,
                client: client) : nil
        try await client.createBucket(cairn.endpoint)
        var puts: [String: [Double]] = [:]
        var gets: [String: [Double]] = [:]
        for run in 0..<settings.runs {
            // A different first block each run: no system gets to recognise content it already has.
            try Self.stamp(source, run: run)
            for endpoint in [cairn.endpoint] + [nginx?.endpoint, seaweed?.endpoint].compactMap({ $0 }) {
                let key = "large-\(run)"
                let put = try await CurlTransfer.put(file: source, url: endpoint.plainURL(method: "PUT", key: key))
                let get = try await CurlTransfer.get(
                    url: endpoint.plainURL(method: "GET", key: key), expectedBytes: size
                )
                puts[endpoint.system, default: []].append(put / 1e6)
                gets[endpoint.system, default: []].append(get / 1e6)
            }
            // nginx keeps one file per key; drop the old ones so the disk does not fill up on long runs.
            if let nginx {
                try? FileManager.default.removeItem(at: nginx.root.appendingPathComponent("bench/large-\(run)"))
            }
        }
        await cairn.stop()
        await nginx?.stop()
        await seaweed?.stop()
        try? FileManager.default.removeItem(at: cairn.dataDirectory)
        try? FileManager.default.removeItem(at: source)
        for system in ["cairn", "nginx", "seaweedfs"] {
            guard let samples = puts[system] else { continue }
            let note =
                switch system {
                case "nginx": "WebDAV PUT (dav_methods PUT; no fsync)"
                case "seaweedfs": "presigned URL to the S3 gateway; no fsync"
                default: "presigned URL, SHA-256 + MD5, fsync before 200"
                }
            record(largePutWorkload, system, "throughput", "MB/s", samples, note: note)
            record(largeGetWorkload, system, "throughput", "MB/s", gets[system] ?? [])
        }
    }

    /// A file of `bytes` pseudo-random bytes (incompressible, so no layer can shortcut it).
    static func writeSourceFile(_ url: URL, bytes: Int) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        // Seeded once from the system: fast enough for gigabytes (the system generator makes a system call per
        // word), and just as incompressible for every layer involved.
        var generator = SplitMix64(seed: .random(in: .min ... .max))
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var written = 0
        while written < bytes {
            block.withUnsafeMutableBytes { raw in
                let words = raw.bindMemory(to: UInt64.self)
                for index in words.indices { words[index] = generator.next() }
            }
            let count = min(block.count, bytes - written)
            try handle.write(contentsOf: block[0..<count])
            written += count
        }
    }

    /// Overwrites the first 8 bytes of a file with the run number.
    static func stamp(_ url: URL, run: Int) throws {
        let handle = try FileHandle(forUpdating: url)
        defer { try? handle.close() }
        try handle.seek(toOffset: 0)
        var value = UInt64(run + 1).littleEndian
        try handle.write(contentsOf: Data(bytes: &value, count: 8))
    }
}
