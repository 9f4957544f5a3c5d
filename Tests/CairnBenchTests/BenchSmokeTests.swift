import Foundation
import Testing

/// Keeps `cairn-bench` working: its smoke mode (tiny sizes, Cairn only, no peers) runs end to end and writes
/// both reports. It checks that figures exist, never how fast anything was.
@Suite("cairn-bench smoke")
struct BenchSmokeTests {
    /// An executable built into the same folder as this test bundle.
    static func builtExecutable(_ name: String) -> URL? {
        let candidates = [
            Bundle.main.bundleURL.deletingLastPathComponent(), Bundle.main.bundleURL,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        ]
        return candidates.map { $0.appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static var toolsAvailable: Bool {
        ["curl", "openssl", "dd", "wrk"].allSatisfy { tool in
            (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
                .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        }
    }

    @Test("smoke mode writes results.md and results.json with every Cairn workload")
    func smoke() throws {
        guard Self.toolsAvailable else {
            let message = "curl, openssl, dd and wrk are needed for the cairn-bench smoke test"
            if ProcessInfo.processInfo.environment["CI"] != nil { Issue.record(Comment(rawValue: message)) }
            print("skipped: \(message)")
            return
        }
        let bench = try #require(Self.builtExecutable("cairn-bench"), "cairn-bench is not in the build folder")
        let cairn = try #require(Self.builtExecutable("cairn"), "cairn is not in the build folder")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-bench-smoke-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }

        let process = Process()
        process.executableURL = bench
        process.arguments = [
            "--smoke", "--systems", "cairn", "--cairn", cairn.path, "--output", output.path, "--phase-seconds", "0.5",
        ]
        let log = output.appendingPathExtension("log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        let printed = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "cairn-bench --smoke failed:\n\(printed.suffix(4000))")

        let markdown = try String(contentsOf: output.appendingPathComponent("results.md"), encoding: .utf8)
        #expect(markdown.contains("| workload | metric | Cairn | nginx | moto | machine limit |"))
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
