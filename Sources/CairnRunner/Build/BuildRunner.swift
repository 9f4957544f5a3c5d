import CairnCore
import Foundation

/// Runs a buildspec the way CodeBuild does, skipping every phase whose key the store has seen.
public enum BuildRunner {
    /// Runs the build. Throws before running anything when the buildspec or the options are invalid; a failing
    /// command does not throw, it makes the result fail.
    public static func run(_ options: BuildOptions) async throws -> BuildResult {
        let buildspec = try Buildspec.load(path: options.buildspecPath)
        let run = try BuildRun(options: options, buildspec: buildspec)
        return try await run.execute()
    }
}

/// One build in progress: the shell session, the snapshots and the results so far.
final class BuildRun: @unchecked Sendable {  // driven by one task, sequentially
    let options: BuildOptions
    let buildspec: Buildspec
    let console: BuildConsole
    let store: any PhaseStore
    let sourceDirectory: String
    let projectName: String
    let projectID: String
    let scanner: WorkspaceScanner
    let secretValues: [Buildspec.NameValue]
    let shellName: String
    let buildID: String
    var buildNumber = 1
    var results: [PhaseResult] = []
    var succeeding = true
    var history: BuildHistory?
    var newHistory: [String: PhaseKeyInputs] = [:]
    var helperDirectory = ""
    /// The shell's state before the first phase; phase keys include what earlier phases changed.
    var initialState = ShellState(environment: [:], workingDirectory: "")

    init(options: BuildOptions, buildspec: Buildspec) throws {
        self.options = options
        self.buildspec = buildspec
        self.console = options.console
        self.store = options.store
        self.sourceDirectory = URL(fileURLWithPath: options.sourceDirectory).standardizedFileURL.path
        self.projectName = options.projectName ?? URL(fileURLWithPath: sourceDirectory).lastPathComponent
        let identity =
            (InputFiles.mayBeGitWorkTree(sourceDirectory)
            ? InputFiles.run(["git", "-C", sourceDirectory, "config", "--get", "remote.origin.url"]) : nil)
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
            ?? sourceDirectory
        // A name given with --project is the same project on every machine; otherwise the checkout's remote (or,
        // without one, its path) tells projects that share a directory name apart.
        self.projectID = options.projectName ?? projectName + "-" + String(MessageDigest.sha256Hex(identity).prefix(16))
        self.scanner = WorkspaceScanner(sourceDirectory: sourceDirectory)
        self.shellName = buildspec.env.shell ?? "/bin/sh"
        self.buildID = "\(projectName):\(UUID().uuidString.lowercased())"
        self.secretValues = try Self.resolveSecrets(buildspec, options: options)
        try Self.checkRunAs(buildspec, environment: options.environment)
    }

    // MARK: Validation

    static func resolveSecrets(_ buildspec: Buildspec, options: BuildOptions) throws -> [Buildspec.NameValue] {
        var values: [Buildspec.NameValue] = []
        for (section, entries) in [
            ("parameter-store", buildspec.env.parameterStore), ("secrets-manager", buildspec.env.secretsManager),
        ] {
            for entry in entries {
                guard
                    let value = options.secrets[entry.value] ?? options.secrets[entry.name]
                        ?? options.environment[entry.name]
                else {
                    throw RunnerError(
                        "env.\(section).\(entry.name): no value for '\(entry.value)'; cairn build reads it from "
                            + "--secrets-file (key '\(entry.value)' or '\(entry.name)') or from the variable \(entry.name)"
                    )
                }
                values.append(.init(name: entry.name, value: value))
            }
        }
        return values
    }

    static func checkRunAs(_ buildspec: Buildspec, environment: [String: String]) throws {
        let user = environment["USER"] ?? NSUserName()
        let requested =
            [("run-as", buildspec.runAs)] + buildspec.phases.map { ("phases.\($0.name.rawValue).run-as", $0.runAs) }
        for (key, value) in requested {
            guard let value, value != user else { continue }
            throw RunnerError(
                "\(key): cairn build runs every command as the current user (\(user)) and cannot switch to '\(value)'; "
                    + "remove run-as or run cairn build as \(value)"
            )
        }
    }

    // MARK: Environment

    func initialEnvironment(startTime: Date) throws -> [String: String] {
        var environment = options.environment
        for name in environment.keys where name.hasPrefix("CODEBUILD_") && name != "CODEBUILD_BUILD_IMAGE" {
            environment[name] = nil
        }
        helperDirectory = FileManager.default.temporaryDirectory.path + "/cairn-bin-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: helperDirectory, withIntermediateDirectories: true)
        let hashFiles = helperDirectory + "/codebuild-hash-files"
        try Data(Self.hashFilesScript.utf8).write(to: URL(fileURLWithPath: hashFiles))
        chmod(hashFiles, 0o755)
        environment["PATH"] = helperDirectory + ":" + (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        environment["CODEBUILD_SRC_DIR"] = sourceDirectory
        environment["CODEBUILD_BUILD_ID"] = buildID
        environment["CODEBUILD_BUILD_ARN"] = "arn:aws:codebuild:local:000000000000:build/\(buildID)"
        environment["CODEBUILD_BUILD_NUMBER"] = String(buildNumber)
        environment["CODEBUILD_BUILD_SUCCEEDING"] = "1"
        environment["CODEBUILD_START_TIME"] = String(Int64(startTime.timeIntervalSince1970 * 1000))
        environment["CODEBUILD_INITIATOR"] = "cairn/" + (options.environment["USER"] ?? NSUserName())
        if let commit = InputFiles.gitCommit(in: sourceDirectory) {
            environment["CODEBUILD_RESOLVED_SOURCE_VERSION"] = commit
        }
        for variable in buildspec.env.variables { environment[variable.name] = variable.value }
        for secret in secretValues { environment[secret.name] = secret.value }
        return environment
    }

    /// `codebuild-hash-files PATTERN...`: one SHA-256 over the matched files under the source directory.
    static let hashFilesScript = """
        #!/bin/sh
        # codebuild-hash-files PATTERN...: the SHA-256 of the files that match, in path order (cairn build).
        cd "${CODEBUILD_SRC_DIR:-.}" || exit 1
        for pattern in "$@"; do
          for file in $pattern; do
            if [ -f "$file" ]; then printf '%s\\n' "$file"; fi
          done
        done | LC_ALL=C sort -u | while IFS= read -r file; do sha256sum "$file"; done | sha256sum | cut -d' ' -f1

        """

    // MARK: Running

    func execute() async throws -> BuildResult {
        let start = Date()
        // With no `cache` section to restore first, nothing writes to the workspace before the first phase, so it is
        // hashed (tens of milliseconds for a big tree) while the history loads and the shell starts.
        let scanner = self.scanner
        let roots = declaredOutputRoots
        let earlySnapshot = buildspec.cache == nil ? Task { try scanner.snapshot(extraRoots: roots) } : nil
        if options.useCache {
            history = try? await loadHistory()
        }
        buildNumber = (history?.buildNumber ?? 0) + 1
        let environment = try initialEnvironment(startTime: start)
        defer { try? FileManager.default.removeItem(atPath: helperDirectory) }
        let shell = try ShellSession(
            shell: shellName, workingDirectory: sourceDirectory, environment: environment,
            interruption: options.interruption
        )
        defer { shell.close() }
        console.line("[cairn] build \(buildID) (#\(buildNumber)) in \(sourceDirectory)")
        console.line(
            "[cairn] shell \(shellName), store: \(store.description)\(options.useCache ? "" : ", cache disabled (--no-cache)")"
        )
        for note in buildspec.localNotes { console.line("[cairn] note: \(note)") }
        for phase in buildspec.phases where !phase.runtimeVersions.isEmpty {
            for runtime in phase.runtimeVersions {
                console.line(
                    "[cairn] warning: runtime-versions \(runtime.name): \(runtime.value) is recorded in the install key "
                        + "but cannot be selected here; the tools on PATH are used"
                )
            }
        }
        if let cache = buildspec.cache { await restoreCache(cache, shell: shell) }

        initialState = try await shell.state()
        var snapshot = try await earlySnapshot?.value ?? scanner.snapshot(extraRoots: declaredOutputRoots)
        var previousKey = ""
        var stopped = false
        for phase in buildspec.phases {
            if stopped || interrupted {
                results.append(
                    PhaseResult(
                        name: phase.name, status: .notRun, cache: options.useCache ? .miss : .disabled, key: nil,
                        durationSeconds: 0, startTime: Date().timeIntervalSince1970,
                        endTime: Date().timeIntervalSince1970
                    )
                )
                continue
            }
            let outcome = try await runPhase(phase, shell: shell, snapshot: snapshot, previousKey: previousKey)
            results.append(outcome.result)
            snapshot = outcome.snapshot
            previousKey = outcome.result.key ?? ""
            if outcome.result.status == .failed {
                if succeeding {
                    succeeding = false
                    try await shell.apply(set: ["CODEBUILD_BUILD_SUCCEEDING": "0"], unset: [], workingDirectory: nil)
                }
                switch phase.onFailure {
                case .continue?: break
                case .abort?: stopped = true
                case .retry?, nil:
                    // CodeBuild's transitions: install and pre_build stop the build; build goes on to post_build.
                    stopped = phase.name != .build
                }
            }
        }

        let state = try await shell.state()
        var locations: [String] = []
        let installOrPreBuildFailed = results.contains {
            ($0.name == .install || $0.name == .preBuild) && $0.status == .failed
        }
        if let signal = options.interruption?.interruptingSignal {
            succeeding = false
            console.line("[cairn] interrupted by signal \(signal): the build stopped; nothing more was stored")
        } else {
            if !installOrPreBuildFailed {
                locations += await uploadArtifacts(shell: shell)
                locations += await uploadReports()
            }
            if let cache = buildspec.cache, succeeding { await saveCache(cache, shell: shell) }
            if options.useCache { await saveHistory() }
        }

        let exported = buildspec.env.exportedVariables.map {
            Buildspec.NameValue(name: $0, value: state.environment[$0] ?? "")
        }
        let end = Date()
        let result = BuildResult(
            buildID: buildID, buildNumber: buildNumber, succeeded: succeeding, phases: results,
            artifactLocations: locations, exportedVariables: exported, startTime: start.timeIntervalSince1970,
            endTime: end.timeIntervalSince1970, finalEnvironment: state.environment,
            interruptingSignal: options.interruption?.interruptingSignal
        )
        printSummary(result)
        if let path = options.reportPath {
            try BuildReport(result: result, projectName: projectName, sourceDirectory: sourceDirectory).write(to: path)
            console.line("[cairn] report written to \(path)")
        }
        return result
    }

    /// Whether Ctrl-C or SIGTERM stopped the build.
    var interrupted: Bool { options.interruption?.interruptingSignal != nil }

    /// Absolute roots outside the source tree whose changes phases record: `cairn` outputs and the `cache`
    /// section's absolute paths (a phase that fills `~/.m2` is restored with what it put there).
    var declaredOutputRoots: [String] {
        let cachePaths = buildspec.cache.flatMap { try? self.cacheRoots($0).roots } ?? []
        return Array(Set(buildspec.cairn.phases.values.flatMap(\.outputs).map(expandHome) + cachePaths)).sorted()
    }

    func expandHome(_ path: String) -> String {
        guard path.hasPrefix("~/") else { return path }
        return (options.environment["HOME"] ?? NSHomeDirectory()) + path.dropFirst(1)
    }

    func printSummary(_ result: BuildResult) {
        console.line("")
        console.line("[cairn] phase        status     duration  cache")
        for phase in result.phases {
            let how: String
            switch (phase.status, phase.cache) {
            case (.notRun, _): how = "not run"
            case (_, .hit): how = "restored"
            case (_, .disabled): how = "ran (cache disabled)"
            case (.failed, _): how = "ran, not stored"
            case (_, .miss): how = phase.stored ? "ran, stored" : "ran"
            }
            let name = phase.name.phaseType.padding(toLength: 12, withPad: " ", startingAt: 0)
            let status = phase.status.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
            let duration = String(format: "%7.2fs", phase.durationSeconds)
            console.line("[cairn] \(name) \(status) \(duration)  \(how)")
        }
        for location in result.artifactLocations { console.line("[cairn] artifact \(location)") }
        for variable in result.exportedVariables { console.line("[cairn] exported \(variable.name)=\(variable.value)") }
        let restored = result.phases.filter { $0.cache == .hit }.count
        let ran = result.phases.filter { $0.cache != .hit && $0.status != .notRun }.count
        console.line(
            "[cairn] build \(result.succeeded ? "SUCCEEDED" : "FAILED") in "
                + String(format: "%.2f", result.endTime - result.startTime) + " s: \(ran) ran, \(restored) restored"
        )
    }

    // MARK: History

    func loadHistory() async throws -> BuildHistory? {
        guard let entry = try await store.entry(namespace: BuildHistory.namespace, key: projectID) else { return nil }
        return try JSONValueDecoder().decode(BuildHistory.self, from: try await store.read(entry.value.digest))
    }

    func saveHistory() async {
        var phases = history?.phases ?? [:]
        phases.merge(newHistory) { $1 }
        let record = BuildHistory(buildNumber: buildNumber, phases: phases)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let segment = try await store.upload(bytes: Array(try encoder.encode(record)))
            try await store.putEntry(
                ActionEntry(namespace: BuildHistory.namespace, key: projectID, value: segment)
            )
        } catch {
            console.line("[cairn] warning: could not record this build for --explain: \(error)")
        }
    }
}
