import CairnCore
import CairnTestSupport
import Foundation
import Testing

/// The `cairn build` command as a user runs it.
@Suite("cairn build on the command line")
struct CommandLineTests {
    func runCairn(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        let process = try SpawnedProcess(
            executable: CairnServerProcess.executable.path, arguments: arguments, environment: env,
            workingDirectory: directory, standardOutput: .descriptor(out.fileHandleForWriting.fileDescriptor),
            standardError: .descriptor(err.fileHandleForWriting.fileDescriptor)
        )
        // The child holds the write ends now: with ours closed, the reads below end when it exits.
        try out.fileHandleForWriting.close()
        try err.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        let termination = process.waitUntilExit()
        return (
            termination.status, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
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
        let result = try runCairn(["build", "--cache-dir", store.directory], in: project.directory)
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
        let result = try runCairn(
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
        let environment = [
            "AWS_ACCESS_KEY_ID": CairnServerProcess.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": CairnServerProcess.secretAccessKey,
        ]
        let first = try await FixtureProject("shell-only")
        let cold = try runCairn(["build", "--store", server.endpoint], in: first.directory, environment: environment)
        #expect(cold.status == 0, "\(cold.stdout)\(cold.stderr)")
        #expect(cold.stdout.contains("4 ran, 0 restored"))
        let second = try await FixtureProject("shell-only")
        let warm = try runCairn(
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

        let refused = try runCairn(
            ["build", "--store", server.endpoint], in: second.directory,
            environment: [
                "AWS_ACCESS_KEY_ID": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "HOME": "/nonexistent",
            ]
        )
        #expect(refused.status == 2)
        #expect(refused.stderr.hasPrefix("error: no credentials for \(server.endpoint)"), "\(refused.stderr)")
    }

    @Test func timeoutStopsTheBuild() async throws {
        let project = try await FixtureProject("shell-only", git: false)
        try project.write("buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 30\n")
        let store = try TemporaryStore()
        let start = Date()
        let result = try runCairn(
            ["build", "--cache-dir", store.directory, "--timeout", "0.02"], in: project.directory)
        #expect(Date().timeIntervalSince(start) < 20)
        #expect(result.status == 128 + SIGTERM, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("timed out"))
    }
}
