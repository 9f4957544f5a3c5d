import CairnCore
import Foundation

/// One build: the coordinator that walks the phases in order over an environment, a phase cache, a phase executor
/// and the artifact uploads.
///
/// Everything here is settled before the first command runs; what changes while the build runs (results, whether
/// it still succeeds, the history it records) lives in ``execute()`` and moves between the parts as values.
struct BuildRun: Sendable {
    let options: BuildOptions
    let buildspec: Buildspec
    let console: BuildConsole
    let store: any PhaseStore
    let projectName: String
    let projectID: String
    let secretValues: [Buildspec.NameValue]
    let shellName: String
    let buildID: String
    /// The source directory as the commands see it, the home directory and the helper directory, and how recorded
    /// paths map to them.
    let paths: PortablePaths
    /// Where the commands run and how a phase's effect is captured.
    let environment: any BuildEnvironment
    let executor: PhaseExecutor
    let phaseCache: PhaseCache
    /// The `cache` section, when the buildspec has one.
    let projectCache: ProjectCache?

    /// The source directory as the build's commands see it.
    var sourceDirectory: String { paths.sourceDirectory }
    /// The user's checkout: read to make the workspace, never written.
    let checkoutDirectory: String

    /// Copies the source into a fresh workspace and prepares the environment the commands run in.
    init(options: BuildOptions, buildspec: Buildspec) async throws {
        self.options = options
        self.buildspec = buildspec
        self.console = options.console
        self.store = options.store
        let checkout = URL(fileURLWithPath: options.sourceDirectory).standardizedFileURL.path
        self.checkoutDirectory = checkout
        let projectName = options.projectName ?? URL(fileURLWithPath: checkout).lastPathComponent
        self.projectName = projectName
        let identity =
            (InputFiles.mayBeGitWorkTree(checkout)
            ? InputFiles.run(["git", "-C", checkout, "config", "--get", "remote.origin.url"]) : nil)
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
            ?? checkout
        // A name given with --project is the same project on every machine; otherwise the checkout's remote (or,
        // without one, its path) tells projects that share a directory name apart.
        let projectID = options.projectName ?? projectName + "-" + String(MessageDigest.sha256Hex(identity).prefix(16))
        self.projectID = projectID
        let shellName = buildspec.env.shell ?? "/bin/sh"
        self.shellName = shellName
        self.buildID = "\(projectName):\(UUID().uuidString.lowercased())"
        let secretValues = try Self.resolveSecrets(buildspec, options: options)
        self.secretValues = secretValues
        try Self.checkRunAs(buildspec, environment: options.environment)
        let helperDirectory =
            FileManager.default.temporaryDirectory.path + "/cairn-bin-\(UUID().uuidString.prefix(8))"
        let environment = try await Self.makeEnvironment(
            options: options, checkout: checkout, projectName: projectName, helperDirectory: helperDirectory,
            buildID: buildID
        )
        self.environment = environment
        let paths = PortablePaths(
            sourceDirectory: environment.sourceDirectory,
            home: (environment.baseEnvironment ?? options.environment)["HOME"] ?? NSHomeDirectory(),
            helperDirectory: helperDirectory
        )
        self.paths = paths
        self.executor = PhaseExecutor(console: options.console, interruption: options.interruption)
        // Files of the runner's own in the source tree (the buildspec, the report): never phase inputs.
        let checkoutPaths = PortablePaths(sourceDirectory: checkout, home: paths.home, helperDirectory: "")
        let runnerFiles = Set(
            ([options.buildspecPath, options.reportPath].compactMap { $0 } + options.runnerFiles).map {
                checkoutPaths.relativeDirectory(URL(fileURLWithPath: $0).standardizedFileURL.path)
            })
        self.phaseCache = PhaseCache(
            store: options.store, console: options.console, paths: paths, environment: environment,
            buildspec: buildspec, shellName: shellName, secretValues: secretValues,
            outerEnvironment: options.environment, runnerFiles: runnerFiles
        )
        self.projectCache = buildspec.cache.map {
            ProjectCache(
                spec: $0, projectID: projectID, store: options.store, console: options.console, paths: paths,
                environment: environment
            )
        }
    }

    /// Whether Ctrl-C or SIGTERM stopped the build.
    var interrupted: Bool { options.interruption?.interruptingSignal != nil }

    /// Absolute roots outside the source tree whose changes phases record: `cairn` outputs and the `cache`
    /// section's absolute paths (a phase that fills `~/.m2` is restored with what it put there).
    var declaredOutputRoots: [String] {
        let cachePaths = projectCache.flatMap { try? $0.roots().roots } ?? []
        return Array(Set(buildspec.cairn.phases.values.flatMap(\.outputs).map(paths.expandHome) + cachePaths)).sorted()
    }

    // MARK: Running

    func execute() async throws -> BuildResult {
        let start = Date()
        // With no `cache` section to restore first, nothing writes to the workspace before the first phase, so it is
        // hashed (tens of milliseconds for a big tree) while the history loads and the shell starts.
        let environment = self.environment
        let roots = declaredOutputRoots
        let earlySnapshot = buildspec.cache == nil ? Task { try await environment.snapshot(extraRoots: roots) } : nil
        // Loaded with --no-cache too: build numbers go on counting.
        var history: BuildHistory?
        if options.storeReachable { history = try? await loadHistory() }
        var buildNumber = (history?.buildNumber ?? 0) + 1
        if options.storeReachable {
            do {
                buildNumber = try await claimBuildNumber(after: history?.buildNumber ?? 0)
            } catch {
                console.notice("[cairn] warning: build number \(buildNumber) may not be unique: \(error)")
            }
        }
        let variables = try initialEnvironment(startTime: start, buildNumber: buildNumber)
        defer { try? FileManager.default.removeItem(atPath: paths.helperDirectory) }
        let session = try environment.startSession(
            shell: shellName, workingDirectory: sourceDirectory, environment: variables,
            interruption: options.interruption
        )
        defer { session.close() }
        console.line("[cairn] build \(buildID) (#\(buildNumber)) of \(checkoutDirectory), in \(sourceDirectory)")
        console.event(.buildStarted(id: buildID, number: buildNumber))
        if options.keepWorkspace {
            console.line("[cairn] the workspace stays at \(environment.hostPath(sourceDirectory)) after the build")
        }
        let cacheNote =
            options.useCache ? "" : options.storeReachable ? ", cache disabled (--no-cache)" : ", unreachable"
        console.line("[cairn] shell \(shellName), store: \(store.description)\(cacheNote)")
        for note in buildspec.localNotes { console.line("[cairn] note: \(note)") }
        if let batch = buildspec.batch, options.batchIdentifier == nil {
            console.line(
                "[cairn] note: the buildspec's batch section (\(batch.tasks.count) build\(batch.tasks.count == 1 ? "" : "s")) "
                    + "runs with --batch; "
                    + "this is one build of the buildspec itself")
        }
        for phase in buildspec.phases where !phase.runtimeVersions.isEmpty {
            for runtime in phase.runtimeVersions {
                console.notice(
                    "[cairn] warning: runtime-versions \(runtime.name): \(runtime.value) is recorded in the install key "
                        + "but cannot be selected here; the tools on PATH are used"
                )
            }
        }
        if let projectCache, options.storeReachable {
            console.status("CACHE restoring")
            await TransferProgress.$current.withValue(console.transfer(.restore, of: "CACHE")) {
                await projectCache.restore(session: session)
            }
            console.status(nil)
        }

        let initialState = try await session.state()
        var snapshot: WorkspaceSnapshot
        if let earlySnapshot {
            snapshot = try await earlySnapshot.value
        } else {
            snapshot = try await environment.snapshot(extraRoots: declaredOutputRoots)
        }
        var results: [PhaseResult] = []
        var succeeding = true
        var newHistory: [String: PhaseKeyInputs] = [:]
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
                console.event(.phaseEnded(results[results.count - 1]))
                continue
            }
            let outcome = try await runPhase(
                phase, session: session, snapshot: snapshot, previousKey: previousKey, initialState: initialState,
                buildSucceeding: succeeding, history: history
            )
            results.append(outcome.result)
            console.event(.phaseEnded(outcome.result))
            newHistory[phase.name.rawValue] = outcome.inputs
            snapshot = outcome.snapshot
            previousKey = outcome.result.key ?? ""
            if outcome.result.status == .failed {
                if succeeding {
                    succeeding = false
                    try await session.apply(
                        set: ["CODEBUILD_BUILD_SUCCEEDING": "0"], unset: [], workingDirectory: nil, assignments: [])
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

        let state = try await session.state()
        var locations: [String] = []
        let installOrPreBuildFailed = results.contains {
            ($0.name == .install || $0.name == .preBuild) && $0.status == .failed
        }
        if let signal = options.interruption?.interruptingSignal {
            succeeding = false
            console.line("[cairn] interrupted by signal \(signal): the build stopped; nothing more was stored")
        } else {
            if !installOrPreBuildFailed {
                let uploader = ArtifactUploader(
                    store: store, console: console, sourceDirectory: environment.hostPath(sourceDirectory),
                    outputDirectory: options.outputDirectory, projectName: projectName,
                    projectID: projectID, buildID: buildID, buildNumber: buildNumber,
                    destination: options.artifactsDestination, zipArtifacts: options.zipArtifacts
                )
                let artifacts = await uploader.uploadArtifacts(buildspec.artifacts, session: session)
                if artifacts.failed { succeeding = false }
                locations += artifacts.locations
                locations += await uploader.uploadReports(buildspec.reports)
            }
            if let projectCache, succeeding, options.storeReachable {
                console.status("CACHE storing")
                await TransferProgress.$current.withValue(console.transfer(.store, of: "CACHE")) {
                    await projectCache.save(session: session)
                }
                console.status(nil)
            }
            if options.storeReachable { await saveHistory(history, adding: newHistory, buildNumber: buildNumber) }
        }

        let exported = buildspec.env.exportedVariables.map {
            Buildspec.NameValue(name: $0, value: state.environment[$0] ?? "")
        }
        let end = Date()
        let result = BuildResult(
            buildID: buildID, buildNumber: buildNumber, succeeded: succeeding, phases: results,
            artifactLocations: locations, exportedVariables: exported, startTime: start.timeIntervalSince1970,
            endTime: end.timeIntervalSince1970, finalEnvironment: state.environment,
            interruptingSignal: options.interruption?.interruptingSignal,
            workspaceDirectory: options.keepWorkspace ? environment.hostPath(sourceDirectory) : nil
        )
        console.summary(of: result)
        console.event(.buildEnded(result))
        if options.storeReachable, options.interruption?.interruptingSignal == nil {
            do {
                try await store.reportBuild(result.outcomeReport(project: projectName))
            } catch {
                console.notice("[cairn] warning: could not report this build to the store's metrics: \(error)")
            }
        }
        if let path = options.reportPath {
            try BuildReport(result: result, projectName: projectName, sourceDirectory: sourceDirectory).write(to: path)
            console.line("[cairn] report written to \(path)")
        }
        return result
    }
}
