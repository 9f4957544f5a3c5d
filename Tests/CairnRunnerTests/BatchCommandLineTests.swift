import CairnCore
import CairnTestSupport
import Foundation
import Testing

/// `cairn build --batch` as a user runs it: exit statuses, prefixed output, Ctrl-C.
@Suite("cairn build --batch on the command line")
struct BatchCommandLineTests {
    static let buildspec = """
        version: 0.2
        batch:
          build-list:
            - identifier: first
              env:
                variables: {NAP: "60"}
            - identifier: second
              env:
                variables: {NAP: "61"}
            - identifier: third
              ignore-failure: true
        env:
          variables: {NAP: "fail"}
        phases:
          build:
            commands:
              - echo "napping $NAP"
              - if [ "$NAP" = fail ]; then false; else sleep $NAP; fi
        """

    @Test(.requires("git", "bwrap"))
    func ctrlCStopsEveryBuildAndStoresNothing() async throws {
        let project = try await FixtureProject("shell-only")
        try project.write("buildspec.yml", Self.buildspec)
        try await project.commitAll()
        let store = try TemporaryStore()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-batch-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let report = log.path + ".json"
        defer { try? FileManager.default.removeItem(atPath: report) }
        let process = try SpawnedProcess(
            executable: CairnServerProcess.executable.path,
            arguments: ["build", "--batch", "-j", "3", "--cache-dir", store.directory, "--report", report],
            workingDirectory: project.directory,
            standardInput: .null, standardOutput: .descriptor(handle.fileDescriptor),
            standardError: .descriptor(handle.fileDescriptor))
        try handle.close()
        func output() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(60)
        while !(output().contains("[first] napping 60") && output().contains("[second] napping 61")),
            Date() < deadline
        {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(output().contains("[second] napping 61"), "\(output())")
        let stopped = Date()
        process.send(SIGINT)
        let termination = await process.waitForExit()
        #expect(Date().timeIntervalSince(stopped) < 20)
        #expect(termination.status == 128 + SIGINT, "\(output())")
        let lines = output().split(separator: "\n")
        for name in ["first", "second"] {
            let row = lines.first { $0.hasPrefix("[cairn] \(name) ") }
            #expect(row?.contains("STOPPED") == true, "\(output())")
        }
        #expect(output().contains("batch STOPPED"), "\(output())")
        #expect(output().contains("[first] [cairn] interrupted by signal"), "\(output())")
        // Nothing was stored for the stopped builds: their build phases' keys have no entries.
        for name in ["first", "second"] {
            let path = log.path + ".\(name).json"
            defer { try? FileManager.default.removeItem(atPath: path) }
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            let phases = try #require((json as? [String: Any])?["phases"] as? [[String: Any]])
            let key = try #require(phases.first { $0["phaseType"] as? String == "BUILD" }?["key"] as? String)
            #expect(try await store.store.entry(namespace: "runner", key: key) == nil, "\(name) stored its phase")
        }
    }
}
