import CairnTestSupport
import Foundation
import Testing

/// Many `cairn build` processes at once over one store, all storing the same phase keys.
@Suite("Concurrent cairn build processes")
struct ConcurrentBuildTests {
    static let builds = 16

    /// Runs `builds` `cairn build` processes at once in `directory`; returns each one's status and output.
    func buildAtOnce(_ arguments: [String], in directory: String, environment: [String: String] = [:]) async throws
        -> [ChildProcess.Result]
    {
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let executable = CairnServerProcess.executable.path
        return try await withThrowingTaskGroup(of: ChildProcess.Result.self) { group in
            for _ in 0..<Self.builds {
                group.addTask {
                    try await ChildProcess.run(
                        [executable, "build"] + arguments, environment: env,
                        directory: URL(fileURLWithPath: directory))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// The build numbers the outputs name (`[cairn] build <id> (#N) of …`).
    func buildNumbers(_ results: [ChildProcess.Result]) -> [Int] {
        results.compactMap { result in
            result.output.split(separator: "\n").first { $0.hasPrefix("[cairn] build ") && $0.contains("(#") }
                .flatMap { $0.components(separatedBy: "(#").last?.components(separatedBy: ")").first }
                .flatMap { Int($0) }
        }
    }

    func check(_ results: [ChildProcess.Result]) {
        for result in results { #expect(result.status == 0, "\(result.output)") }
        let numbers = buildNumbers(results)
        #expect(numbers.count == Self.builds)
        #expect(Set(numbers) == Set(1...Self.builds), "build numbers: \(numbers.sorted())")
    }

    @Test(.requires("git"))
    func sixteenBuildsShareOneEmbeddedStore() async throws {
        let project = try await FixtureProject("shell-only")
        let store = try TemporaryStore()
        let arguments = ["--cache-dir", store.directory, "--project", "shell-only"]
        check(try await buildAtOnce(arguments, in: project.directory))
        let fresh = try await FixtureProject("shell-only")
        let warm = try await ChildProcess.run(
            [CairnServerProcess.executable.path, "build"] + arguments,
            directory: URL(fileURLWithPath: fresh.directory))
        #expect(warm.status == 0, "\(warm.output)")
        #expect(warm.output.contains("0 ran, 4 restored"), "\(warm.output)")
        #expect(warm.output.contains("(#\(Self.builds + 1))"), "\(warm.output)")
    }

    @Test(.requires("git"))
    func sixteenBuildsShareOneServer() async throws {
        let server = try CairnServerProcess()
        try server.start()
        defer { server.stop() }
        let project = try await FixtureProject("shell-only")
        let arguments = ["--store", server.endpoint, "--project", "shell-only"]
        check(try await buildAtOnce(arguments, in: project.directory, environment: server.clientEnvironment))
        let fresh = try await FixtureProject("shell-only")
        let warm = try await ChildProcess.run(
            [CairnServerProcess.executable.path, "build"] + arguments, environment: server.clientEnvironment,
            directory: URL(fileURLWithPath: fresh.directory))
        #expect(warm.status == 0, "\(warm.output)")
        #expect(warm.output.contains("0 ran, 4 restored"), "\(warm.output)")
        #expect(warm.output.contains("(#\(Self.builds + 1))"), "\(warm.output)")
    }
}
