import CairnCore
import CairnTestSupport
import Foundation
import Testing

/// Keeps `cairn-bench` working: its smoke mode (tiny sizes, Cairn only, no peers) runs end to end and writes
/// both reports. It checks that figures exist, never how fast anything was.
@Suite("cairn-bench smoke")
struct BenchSmokeTests {
    @Test(
        "smoke mode writes results.md and results.json with every Cairn workload",
        .requires("curl", "openssl", "dd", "wrk"))
    func smoke() throws {
        let bench = try #require(BuildProducts.executable("cairn-bench"), "cairn-bench is not in the build folder")
        let cairn = try #require(BuildProducts.executable("cairn"), "cairn is not in the build folder")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-bench-smoke-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }

        let log = output.appendingPathExtension("log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let process = try SpawnedProcess(
            executable: bench.path,
            arguments: [
                "--smoke", "--systems", "cairn", "--cairn", cairn.path, "--output", output.path, "--phase-seconds",
                "0.5",
            ],
            standardOutput: .descriptor(handle.fileDescriptor), standardError: .descriptor(handle.fileDescriptor)
        )
        let termination = process.waitUntilExit()
        try handle.close()
        let printed = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(termination == .exited(0), "cairn-bench --smoke failed:\n\(printed.suffix(4000))")

        let markdown = try String(contentsOf: output.appendingPathComponent("results.md"), encoding: .utf8)
        #expect(markdown.contains("| workload | metric | Cairn | nginx | moto | SeaweedFS | machine limit |"))
        let json = try Data(contentsOf: output.appendingPathComponent("results.json"))
        let report = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let measurements = try #require(report["measurements"] as? [[String: Any]])
        let cairnWorkloads = Set(
            measurements.filter { $0["system"] as? String == "cairn" }.compactMap { $0["workload"] as? String })
        for expected in [
            "PUT (curl", "GET (curl", "4 KiB PUT", "4 KiB GET", "PUT then GET", "start-up with 1000 objects",
        ] {
            #expect(
                cairnWorkloads.contains { $0.contains(expected) },
                "no Cairn measurement for \(expected): \(cairnWorkloads)")
        }
        for measurement in measurements {
            let samples = measurement["samples"] as? [Double] ?? []
            #expect(!samples.isEmpty && samples.allSatisfy { $0 > 0 }, "empty or zero figure: \(measurement)")
        }
    }
}
