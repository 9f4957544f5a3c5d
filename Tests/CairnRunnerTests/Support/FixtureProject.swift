import CairnCore
import CairnRunner
import CairnTestSupport
import Foundation
import Testing

/// A copy of a fixture project in a temporary directory, made a git checkout as CI would have it.
final class FixtureProject: @unchecked Sendable {  // used by the one test that owns it
    let directory: String

    /// Copies `Fixtures/<name>` (its `gitignore` becomes `.gitignore`) and commits it to a new git repository.
    init(_ name: String, git: Bool = true) async throws {
        let source = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/\(name)").path
        directory = FileManager.default.temporaryDirectory.path + "/cairn-runner-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.copyItem(atPath: source, toPath: directory)
        let ignore = directory + "/gitignore"
        if FileManager.default.fileExists(atPath: ignore) {
            try FileManager.default.moveItem(atPath: ignore, toPath: directory + "/.gitignore")
        }
        if git {
            try await ChildProcess.output(["git", "init", "-q"], in: directory)
            try await ChildProcess.output(["git", "add", "-A"], in: directory)
            try await ChildProcess.output(
                ["git", "-c", "user.email=ci@example.com", "-c", "user.name=CI", "commit", "-q", "-m", "fixture"],
                in: directory
            )
        }
    }

    /// The workspace the last build left (builds here keep theirs), where its outputs are; nil before a build.
    private(set) var workspace: String?

    /// Commits everything in the checkout (making it a git repository first when it is not one).
    func commitAll() async throws {
        if !FileManager.default.fileExists(atPath: path(".git")) {
            try await ChildProcess.output(["git", "init", "-q"], in: directory)
        }
        try await ChildProcess.output(["git", "add", "-A"], in: directory)
        try await ChildProcess.output(
            ["git", "-c", "user.email=ci@example.com", "-c", "user.name=CI", "commit", "-q", "-m", "change"],
            in: directory
        )
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
        if let workspace { try? FileManager.default.removeItem(atPath: workspace) }
    }

    /// A path in the checkout.
    func path(_ relative: String) -> String { directory + "/" + relative }

    /// A file as the last build left it in its workspace (before any build: in the checkout).
    func read(_ relative: String) -> String? {
        try? String(contentsOfFile: (workspace ?? directory) + "/" + relative, encoding: .utf8)
    }

    /// A file in the checkout.
    func readSource(_ relative: String) -> String? {
        try? String(contentsOfFile: path(relative), encoding: .utf8)
    }

    /// Records the workspace a build kept, deleting the previous one.
    func adopt(workspace: String?) {
        if let old = self.workspace, old != workspace { try? FileManager.default.removeItem(atPath: old) }
        self.workspace = workspace
    }

    func write(_ relative: String, _ text: String) throws {
        try text.write(toFile: path(relative), atomically: true, encoding: .utf8)
    }

    /// Replaces text in a file; fails the test when the text is not there.
    func edit(_ relative: String, replacing old: String, with new: String) throws {
        let text = try #require(readSource(relative))
        #expect(text.contains(old), "\(relative) does not contain \(old)")
        try write(relative, text.replacingOccurrences(of: old, with: new))
    }

    /// Runs the build with the runner's library API; the console output is kept in `output`.
    func build(
        store: any PhaseStore, useCache: Bool = true, explain: Bool = true, environment: [String: String] = [:],
        configure: (inout BuildOptions) -> Void = { _ in }
    ) async throws -> (result: BuildResult, output: String) {
        let log = OutputCapture()
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        var options = BuildOptions(
            sourceDirectory: directory, store: store, environment: env, console: BuildConsole { log.append($0) }
        )
        options.useCache = useCache
        options.explain = explain
        options.projectName = "fixture"
        options.keepWorkspace = true
        options.workspaceRoot = FileManager.default.temporaryDirectory.path + "/cairn-test-workspaces"
        configure(&options)
        let result = try await BuildRunner.run(options)
        adopt(workspace: result.workspaceDirectory)
        return (result, log.text)
    }

    /// Every file, directory and symlink the last build left in its workspace: content digests, modes, link targets.
    func tree() throws -> [String: FileRecord] {
        try WorkspaceScanner(sourceDirectory: try #require(workspace)).snapshot().entries
    }
}

/// Collects console output from the build.
final class OutputCapture: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var bytes: [UInt8] = []

    func append(_ chunk: [UInt8]) {
        lock.lock()
        bytes += chunk
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension BuildResult {
    /// The cache outcome of each phase, by phase name: `HIT`, `MISS`, `DISABLED`.
    var outcomes: [String: String] {
        Dictionary(
            uniqueKeysWithValues: phases.map {
                ($0.name.rawValue, $0.status == .notRun ? "NOT_RUN" : $0.cache.rawValue)
            })
    }

    func phase(_ name: PhaseName) -> PhaseResult? { phases.first { $0.name == name } }
}

/// A temporary data directory for the embedded store.
final class TemporaryStore: @unchecked Sendable {
    let directory: String
    let store: LocalPhaseStore

    init() throws {
        directory = FileManager.default.temporaryDirectory.path + "/cairn-runner-store-\(UUID().uuidString.prefix(8))"
        store = try LocalPhaseStore(dataDirectory: directory)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
