import CairnTestSupport
import Foundation
import Testing

extension CommandLineTests {
    /// A `--json` event, as far as these tests read it.
    struct Event: Decodable {
        var event: String
        var time: Double
        var build: String?
        var phase: String?
        var state: String?
        var direction: String?
        var files: Int?
        var totalFiles: Int?
        var bytes: Int64?
        var totalBytes: Int64?
        var final: Bool?
        var status: String?
        var cache: String?
    }

    /// Every line of `output` as an event; fails the test on a line that is not one JSON object.
    func events(_ output: String) throws -> [Event] {
        try output.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            #expect(object is [String: Any], "not a JSON object: \(line)")
            return try JSONDecoder().decode(Event.self, from: Data(line.utf8))
        }
    }

    /// Checks one transfer's progress events: the last is final and reaches the totals, and the others are at least
    /// a second apart (the rate limit; a loaded machine only makes them further apart).
    func expectTransfer(_ events: [Event], files: Int, bytes: Int64, _ output: String) {
        #expect(!events.isEmpty, "no progress events: \(output)")
        let last = events.last
        #expect(last?.final == true, "\(output)")
        #expect(last?.files == files && last?.totalFiles == files, "\(output)")
        #expect(last?.bytes == bytes && last?.totalBytes == bytes, "\(output)")
        #expect(events.dropLast().allSatisfy { $0.final == false })
        #expect(events.allSatisfy { $0.totalFiles == files && $0.totalBytes == bytes })
        let counts = events.map { ($0.files ?? 0, $0.bytes ?? 0) }
        #expect(zip(counts, counts.dropFirst()).allSatisfy { $0.0 <= $1.0 && $0.1 <= $1.1 }, "counts only grow")
        let times = events.dropLast().map(\.time)
        #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 >= 0.9 }, "at most one a second: \(times)")
    }

    @Test(
        "transfers show progress: --json events reach their totals, a log gets a plain line at most every 5 s, a terminal a bar",
        .requires("git", "python3", "script"))
    func transferProgress() async throws {
        let server = try CairnServerProcess()
        try server.start()
        defer {
            server.stop()
            try? FileManager.default.removeItem(at: server.dataDirectory)
        }
        let environment = Self.serverCredentials
        let project = try await FixtureProject("shell-only")
        // 8 files of 2 MiB that do not compress: 16 MiB of outputs.
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - mkdir -p out
                  - for i in $(seq 1 8); do head -c 2097152 /dev/urandom > out/part$i; done

            """)
        let (files, bytes): (Int, Int64) = (8, 8 * 2_097_152)

        // Stored: the events count the blobs uploaded of those the store lacked.
        let cold = try await runCairn(
            ["build", "--json", "--store", server.endpoint, "--project", "progress"], in: project.directory,
            environment: environment)
        #expect(cold.status == 0, "\(cold.stderr)")
        let coldEvents = try events(cold.stdout)
        #expect(
            coldEvents.map(\.event).filter { $0 != "progress" } == [
                "build-started", "phase-started", "phase-ended", "build-ended",
            ], "\(cold.stdout)")
        #expect(coldEvents.contains { $0.event == "phase-started" && $0.phase == "BUILD" && $0.state == "running" })
        let stored = coldEvents.filter { $0.event == "progress" }
        #expect(stored.allSatisfy { $0.direction == "store" && $0.phase == "BUILD" })
        expectTransfer(stored, files: files, bytes: bytes, cold.stdout)
        #expect(cold.stderr.contains("[cairn] stored BUILD"), "the runner's lines go to standard error")

        // Restored through a proxy that sends 1.2 MB a second: the restore takes over 13 s on any machine, with little
        // work for it (the suite's other tests share the machine).
        let proxy = try await ThrottledProxy(to: server.endpoint, bytesPerSecond: 1_200_000)
        let arguments = ["build", "--store", proxy.endpoint, "--project", "progress"]

        let report = FileManager.default.temporaryDirectory.path + "/cairn-progress-\(UUID().uuidString.prefix(8)).json"
        defer { try? FileManager.default.removeItem(atPath: report) }
        let plain = try await runCairn(
            arguments + ["--report", report], in: project.directory, environment: environment)
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(plain.stdout.contains("0 ran, 1 restored"), "\(plain.stdout)")
        #expect(
            !plain.stdout.contains("\u{1B}") && !plain.stdout.contains("\r"), "no control characters: \(plain.stdout)")
        let progressLines = plain.stdout.split(separator: "\n").filter { $0.hasPrefix("[cairn] BUILD restoring: ") }
        #expect(!progressLines.isEmpty, "a restore of over 13 s shows progress: \(plain.stdout)")
        #expect(progressLines.allSatisfy { $0.contains("/\(files) files, ") && $0.contains("/16.8 MB [") })
        // The first line after 5 s of transfer, then at most one every 5 s: no more lines than 5 s periods.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
        let phases = try #require((json as? [String: Any])?["phases"] as? [[String: Any]])
        let phase = try #require(phases.first { $0["phaseType"] as? String == "BUILD" })
        let duration = try #require(phase["endTime"] as? Double) - (try #require(phase["startTime"] as? Double))
        #expect(Double(progressLines.count) <= duration / 5, "\(progressLines.count) lines in \(duration) s")

        let warm = try await runCairn(
            ["build", "--json"] + arguments.dropFirst(), in: project.directory, environment: environment)
        #expect(warm.status == 0, "\(warm.stderr)")
        let warmEvents = try events(warm.stdout)
        #expect(warmEvents.contains { $0.event == "phase-started" && $0.state == "restoring" }, "\(warm.stdout)")
        #expect(warmEvents.contains { $0.event == "phase-ended" && $0.cache == "HIT" && $0.status == "SUCCEEDED" })
        let restored = warmEvents.filter { $0.event == "progress" }
        #expect(restored.allSatisfy { $0.direction == "restore" })
        expectTransfer(restored, files: files, bytes: bytes, warm.stdout)
        #expect(restored.count >= 4, "a restore of over 13 s reports progress every second: \(warm.stdout)")

        // On a terminal: the counts on the live line, and a bar once the transfer has run for 2 s.
        var terminalEnvironment = ProcessInfo.processInfo.environment
        terminalEnvironment.merge(environment) { $1 }
        let command = ([CairnServerProcess.executable.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let onTerminal = try await ChildProcess.run(
            ["script", "-qec", command, "/dev/null"], environment: terminalEnvironment,
            directory: URL(fileURLWithPath: project.directory))
        #expect(onTerminal.status == 0, "\(onTerminal.output)")
        #expect(onTerminal.output.contains("0 ran, 1 restored"), "\(onTerminal.output)")
        let bar = try Regex(#"\[cairn\] BUILD restoring, \d+ s: \d+/8 files, [0-9.]+/16\.8 MB \[=*>? *\] +\d+%"#)
        #expect(onTerminal.output.contains(bar), "\(onTerminal.output)")
        #expect(onTerminal.output.contains(try Regex(#"8/8 files, 16\.8/16\.8 MB \[=+\] 100%"#)))
    }

    @Test(
        "a batch shows one live line per running build on a terminal, redrawn in place; plain lines without one",
        .requires("git", "script"))
    func batchLiveLines() async throws {
        let project = try await FixtureProject("shell-only")
        let meeting = FileManager.default.temporaryDirectory.path + "/cairn-meeting-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: meeting) }
        // Each build's BUILD phase waits until both have started it: both lines are on the screen at once.
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            batch:
              build-list:
                - identifier: first
                - identifier: second
            phases:
              build:
                commands:
                  - touch '\(meeting)'/$CODEBUILD_BATCH_BUILD_IDENTIFIER
                  - for i in $(seq 1 1200); do [ -e '\(meeting)/first' ] && [ -e '\(meeting)/second' ] && break; sleep 0.1; done
                  - sleep 1.5
                  - echo built

            """)
        let store = try TemporaryStore()
        try FileManager.default.createDirectory(atPath: meeting, withIntermediateDirectories: true)
        let command =
            "'\(CairnServerProcess.executable.path)' build --batch -j 2 --no-cache --cache-dir '\(store.directory)'"
        let onTerminal = try await ChildProcess.run(
            ["script", "-qec", command, "/dev/null"], directory: URL(fileURLWithPath: project.directory))
        #expect(onTerminal.status == 0, "\(onTerminal.output)")
        #expect(onTerminal.output.contains("[cairn] first: BUILD running, "), "\(onTerminal.output)")
        #expect(onTerminal.output.contains("[cairn] second: BUILD running, "), "\(onTerminal.output)")
        // Two lines on the screen: erasing them moves up a line.
        #expect(onTerminal.output.contains("\r\u{1B}[K\u{1B}[A\u{1B}[K"), "\(onTerminal.output)")
        #expect(onTerminal.output.contains("[first] built"))

        try FileManager.default.removeItem(atPath: meeting)
        try FileManager.default.createDirectory(atPath: meeting, withIntermediateDirectories: true)
        let plain = try await runCairn(
            ["build", "--batch", "-j", "2", "--no-cache", "--cache-dir", store.directory], in: project.directory)
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(!plain.stdout.contains("\u{1B}") && !plain.stdout.contains("\r"), "\(plain.stdout)")
        #expect(plain.stdout.contains("[first] [cairn] BUILD running\n"), "\(plain.stdout)")
        #expect(plain.stdout.contains("[second] [cairn] BUILD running\n"), "\(plain.stdout)")

        // With --json, every build's events name it.
        try FileManager.default.removeItem(atPath: meeting)
        try FileManager.default.createDirectory(atPath: meeting, withIntermediateDirectories: true)
        let json = try await runCairn(
            ["build", "--batch", "-j", "2", "--no-cache", "--json", "--cache-dir", store.directory],
            in: project.directory)
        #expect(json.status == 0, "\(json.stdout)\(json.stderr)")
        let ended = try events(json.stdout).filter { $0.event == "build-ended" }
        #expect(Set(ended.compactMap(\.build)) == ["first", "second"], "\(json.stdout)")
        #expect(json.stderr.contains("[first] built"), "\(json.stderr)")
    }

    @Test(
        "the cache section's transfers are CACHE progress events, the artifacts' UPLOAD_ARTIFACTS events",
        .requires("git"))
    func cacheSectionProgress() async throws {
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - mkdir -p deps
                  - for i in 1 2 3; do [ -e deps/lib$i ] || head -c 100000 /dev/urandom > deps/lib$i; done
                  - mkdir -p out && head -c 50000 /dev/urandom > out/app
            cache:
              paths:
                - deps/**/*
            artifacts:
              files:
                - out/*

            """)
        let store = try TemporaryStore()
        let arguments = ["build", "--json", "--no-cache", "--cache-dir", store.directory]
        let cold = try await runCairn(arguments, in: project.directory)
        #expect(cold.status == 0, "\(cold.stderr)")
        let saved = try events(cold.stdout).filter { $0.event == "progress" && $0.phase == "CACHE" }
        #expect(saved.allSatisfy { $0.direction == "store" }, "\(cold.stdout)")
        expectTransfer(saved, files: 3, bytes: 300_000, cold.stdout)
        let uploaded = try events(cold.stdout).filter { $0.event == "progress" && $0.phase == "UPLOAD_ARTIFACTS" }
        #expect(uploaded.allSatisfy { $0.direction == "upload" }, "\(cold.stdout)")
        expectTransfer(uploaded, files: 1, bytes: 50_000, cold.stdout)

        let warm = try await runCairn(arguments, in: project.directory)
        #expect(warm.status == 0, "\(warm.stderr)")
        let restored = try events(warm.stdout).filter { $0.event == "progress" && $0.phase == "CACHE" }
        #expect(restored.first?.direction == "restore", "\(warm.stdout)")
        expectTransfer(restored.filter { $0.direction == "restore" }, files: 3, bytes: 300_000, warm.stdout)
    }
}
