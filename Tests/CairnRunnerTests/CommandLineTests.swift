import CairnCore
import CairnTestSupport
import Foundation
import Testing

/// The `cairn build` command as a user runs it.
@Suite("cairn build on the command line")
struct CommandLineTests {
    /// A `cairn` process whose standard output and error go to files, readable while it runs.
    final class RunningCairn: @unchecked Sendable {  // owned by the one test that starts it
        let process: SpawnedProcess
        let outputFile: String
        let errorFile: String

        init(_ arguments: [String], in directory: String, environment: [String: String]) throws {
            var env = ProcessInfo.processInfo.environment
            env.merge(environment) { $1 }
            let base = FileManager.default.temporaryDirectory.path + "/cairn-cli-\(UUID().uuidString.prefix(8))"
            outputFile = base + ".out"
            errorFile = base + ".err"
            for file in [outputFile, errorFile] { _ = FileManager.default.createFile(atPath: file, contents: nil) }
            let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
            let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errorFile))
            defer {
                try? out.close()
                try? err.close()
            }
            process = try SpawnedProcess(
                executable: CairnServerProcess.executable.path, arguments: arguments, environment: env,
                workingDirectory: directory, standardInput: .null, standardOutput: .descriptor(out.fileDescriptor),
                standardError: .descriptor(err.fileDescriptor)
            )
        }

        deinit {
            process.send(SIGKILL)
            try? FileManager.default.removeItem(atPath: outputFile)
            try? FileManager.default.removeItem(atPath: errorFile)
        }

        var stdout: String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? "" }

        /// Waits for `cairn` to exit; its status and everything it printed.
        func finish() async -> (status: Int32, stdout: String, stderr: String) {
            let termination = await process.waitForExit()
            return (termination.status, stdout, stderr)
        }
    }

    /// The variables that give `cairn build --store` a ``CairnServerProcess``'s root credentials.
    static let serverCredentials = [
        "AWS_ACCESS_KEY_ID": CairnServerProcess.accessKeyID,
        "AWS_SECRET_ACCESS_KEY": CairnServerProcess.secretAccessKey,
    ]

    func runCairn(_ arguments: [String], in directory: String, environment: [String: String] = [:]) async throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let running = try RunningCairn(arguments, in: directory, environment: environment)
        return await running.finish()
    }

    /// Polls without holding a thread until `condition` holds; false after `timeout` seconds.
    func eventually(timeout: Double, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    @Test func malformedBuildspecGetsOneErrorAndRunsNothing() async throws {
        let project = try await FixtureProject("shell-only", git: false)
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              install:
                commands:
                  - touch ran.txt
              build:
                commands:
                  - make
                on-failur: CONTINUE
            """
        )
        let store = try TemporaryStore()
        let result = try await runCairn(["build", "--cache-dir", store.directory], in: project.directory)
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(
            result.stderr.hasPrefix("error: \(project.directory)/buildspec.yml:9: phases.build.on-failur: unknown key"),
            "\(result.stderr)"
        )
        #expect(project.read("ran.txt") == nil)
        #expect(result.stdout.isEmpty)
    }

    @Test(.requires("git"))
    func failedBuildExitsNonZeroAndWritesAReport() async throws {
        let project = try await FixtureProject("shell-only")
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - echo building
                  - exit 4
            """
        )
        let store = try TemporaryStore()
        let report = project.path("report.json")
        let result = try await runCairn(
            ["build", "--cache-dir", store.directory, "--report", report], in: project.directory
        )
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("build FAILED"))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        )
        #expect(json["buildStatus"] as? String == "FAILED")
        let phases = try #require(json["phases"] as? [[String: Any]])
        #expect(phases.first?["phaseType"] as? String == "BUILD")
        #expect(phases.first?["phaseStatus"] as? String == "FAILED")
        #expect(phases.first?["cache"] as? String == "MISS")
        #expect((phases.first?["key"] as? String)?.count == 64)
    }

    @Test(.requires("git"))
    func twoCheckoutsShareAServerThroughTheCommandLine() async throws {
        let server = try CairnServerProcess()
        try server.start()
        defer { server.stop() }
        let environment = Self.serverCredentials
        let first = try await FixtureProject("shell-only")
        let cold = try await runCairn(
            ["build", "--store", server.endpoint], in: first.directory, environment: environment)
        #expect(cold.status == 0, "\(cold.stdout)\(cold.stderr)")
        #expect(cold.stdout.contains("4 ran, 0 restored"))
        let second = try await FixtureProject("shell-only")
        let warm = try await runCairn(
            ["build", "--store", server.endpoint, "--project", "shell-only", "--keep-workspace"], in: second.directory,
            environment: environment
        )
        #expect(warm.status == 0, "\(warm.stdout)\(warm.stderr)")
        #expect(warm.stdout.contains("0 ran, 4 restored"), "\(warm.stdout)")
        let kept = try #require(
            warm.stdout.split(separator: "\n").first { $0.contains("the workspace stays at ") }?
                .components(separatedBy: "the workspace stays at ").last?.components(separatedBy: " after").first)
        second.adopt(workspace: kept)
        #expect(second.read("out/summary.txt") == "done sorted-3\n")
        #expect(second.readSource("out/summary.txt") == nil, "the checkout is never written")

        let refused = try await runCairn(
            ["build", "--store", server.endpoint], in: second.directory,
            environment: [
                "AWS_ACCESS_KEY_ID": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "HOME": "/nonexistent",
            ]
        )
        #expect(refused.status == 2)
        #expect(refused.stderr.hasPrefix("error: no credentials for \(server.endpoint)"), "\(refused.stderr)")

        let wrong = try await runCairn(
            ["build", "--store", server.endpoint], in: second.directory,
            environment: ["AWS_ACCESS_KEY_ID": CairnServerProcess.accessKeyID, "AWS_SECRET_ACCESS_KEY": "wrong"]
        )
        #expect(wrong.status == 2)
        #expect(wrong.stderr.hasPrefix("error: wrong credentials for \(server.endpoint)"), "\(wrong.stderr)")
    }

    @Test func everyArgumentErrorExitsTwo() async throws {
        let project = try await FixtureProject("shell-only", git: false)
        let store = try TemporaryStore()
        let blocked = project.path("not-a-directory")
        try project.write("not-a-directory", "a file where the store's directory would go\n")
        let cases: [(arguments: [String], message: String)] = [
            (["build", "--no-such-option"], "Unknown option '--no-such-option'"),
            (["build", "--timeout"], "Missing value for '--timeout"),
            (["build", "--timeout", "soon"], "The value 'soon' is invalid for '--timeout"),
            (["build", "--timeout", "0"], "--timeout must be a positive number of minutes"),
            (["build", "--store", "ftp://host"], "--store must be an http:// or https:// URL"),
            (["build", "--artifacts", "bucket/prefix"], "--artifacts must look like s3://BUCKET/PREFIX"),
            (["build", "--no-cache", "--rerecord"], "--rerecord writes phase entries; it cannot go with --no-cache"),
            (["build", "--cache-dir", blocked + "/cache"], "cannot open the local store in \(blocked)/cache"),
            (["build", "--secrets-file", project.path("missing.json")], "cannot read the secrets file"),
            (["no-such-command"], "Unexpected argument 'no-such-command'"),
            (["gc"], "name exactly one of --server URL or --data-dir DIR"),
        ]
        for (arguments, message) in cases {
            // A build that got past its arguments would use the test's store, not the user's.
            let storeArguments =
                arguments.first == "build" && !arguments.contains("--cache-dir")
                ? ["--cache-dir", store.directory] : []
            let result = try await runCairn(
                Array(arguments.prefix(1)) + storeArguments + arguments.dropFirst(), in: project.directory)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(project.read("out/install.txt") == nil)
    }

    @Test func timeoutStopsTheBuild() async throws {
        let project = try await FixtureProject("shell-only", git: false)
        try project.write("buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 300\n")
        let store = try TemporaryStore()
        let start = Date()
        let result = try await runCairn(
            ["build", "--cache-dir", store.directory, "--timeout", "0.02"], in: project.directory)
        // Far below the command's five minutes, with room for a loaded machine.
        #expect(Date().timeIntervalSince(start) < 120)
        #expect(result.status == 128 + SIGTERM, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("timed out"))
    }

    @Test func aSecondCtrlCKillsTheCommandsBeforeCairnExits() async throws {
        let project = try await FixtureProject("shell-only", git: false)
        // A command that ignores Ctrl-C and SIGTERM and keeps writing into the workspace.
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            phases:
              build:
                commands:
                  - echo $$ > "$OUT/shell.pid"; trap '' INT TERM; while true; do echo tick >> "$OUT/ticks.txt"; sleep 0.05; done
            """
        )
        // Outside the workspace, which the build deletes when it ends.
        let out = try TemporaryDirectory()
        func read(_ name: String) -> String? { try? String(contentsOfFile: out.path + "/" + name, encoding: .utf8) }
        defer {
            // Without the fix the loop would outlive the test.
            if let group = read("shell.pid").flatMap({
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }) {
                kill(-group, SIGKILL)
            }
        }
        let store = try TemporaryStore()
        let cairn = try RunningCairn(
            ["build", "--cache-dir", store.directory], in: project.directory, environment: ["OUT": out.path])
        #expect(try await eventually(timeout: 600) { read("ticks.txt") != nil }, "\(cairn.stdout)\(cairn.stderr)")
        cairn.process.send(SIGINT)
        #expect(try await eventually(timeout: 60) { cairn.stderr.contains("stopping the build") }, "\(cairn.stderr)")
        // The first one could not stop the command.
        let ticks = read("ticks.txt")?.count ?? 0
        #expect(try await eventually(timeout: 60) { (read("ticks.txt")?.count ?? 0) > ticks })
        cairn.process.send(SIGINT)
        let result = await cairn.finish()
        #expect(result.status == 128 + SIGINT, "\(result.stdout)\(result.stderr)")
        let after = read("ticks.txt")
        try await Task.sleep(for: .milliseconds(500))
        #expect(read("ticks.txt") == after, "the command still writes after cairn exited")
    }
}
