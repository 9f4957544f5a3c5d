import ArgumentParser
import CairnRunner
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `cairn build`: runs a CodeBuild buildspec, skipping every phase whose inputs were seen before.
struct Build: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a CodeBuild buildspec.yml, restoring phases whose inputs were seen before.",
        discussion: """
            The store is a Cairn server (--store http://HOST:PORT, credentials from AWS_ACCESS_KEY_ID and \
            AWS_SECRET_ACCESS_KEY or ~/.aws/credentials) or, by default, a local data directory: $CAIRN_CACHE_DIR, \
            else $XDG_CACHE_HOME/cairn, else ~/.cache/cairn. Exits 1 when the build fails, 2 when it cannot start.
            """
    )

    @Option(
        name: .customLong("source-dir"),
        help: "The source directory (CODEBUILD_SRC_DIR); default: the current directory.")
    var sourceDirectory: String?

    @Option(name: .shortAndLong, help: "The buildspec file; default: buildspec.yml in the source directory.")
    var buildspec: String?

    @Option(help: "A Cairn server, http://HOST:PORT; default: the local store. Env: CAIRN_STORE.")
    var store: String?

    @Option(name: .customLong("cache-dir"), help: "The local store's data directory (without --store).")
    var cacheDirectory: String?

    @Flag(
        name: .customLong("no-cache"),
        help: "Run every phase; read and write no phase entries (build numbers still count).")
    var noCache = false

    @Flag(help: "Run every phase and replace the entries of those that succeed (to drop a bad entry).")
    var rerecord = false

    @Flag(help: "Say for every phase why it hit or missed.")
    var explain = false

    @Option(help: "Write a JSON report shaped like CodeBuild's Build object.")
    var report: String?

    @Option(help: "Where artifacts go, s3://BUCKET/PREFIX; default: s3://cairn-artifacts/<project>.")
    var artifacts: String?

    @Flag(name: .customLong("zip-artifacts"), help: "Package each artifact as one zip instead of separate files.")
    var zipArtifacts = false

    @Option(help: "The project name (artifact names, --explain history); default: the source directory's name.")
    var project: String?

    @Option(
        name: .customLong("secrets-file"),
        help: "JSON object or KEY=VALUE lines with values for env parameter-store and secrets-manager names."
    )
    var secretsFile: String?

    @Option(help: "Stop the build after this many minutes, as CodeBuild's timeoutInMinutes does; default: no limit.")
    var timeout: Double?

    @Option(help: "Also copy the artifacts to this directory, laid out as under --artifacts; default: none.")
    var output: String?

    @Flag(
        name: .customLong("keep-workspace"),
        help: "Leave the build's fresh copy of the source in place afterwards (its path is printed).")
    var keepWorkspace = false

    @Option(
        help:
            "Run the whole build in a container of this image (CodeBuild's environment image); default: on the host. Env: CAIRN_BUILD_IMAGE."
    )
    var image: String?

    @Option(help: "The container engine for --image: podman (default) or docker.")
    var engine: String?

    @Flag(help: "CodeBuild's privileged mode: the build's container may build and run containers itself.")
    var privileged = false

    @Option(help: "The build container's network: none forbids it; default: the engine's default network.")
    var network: String?

    @Flag(help: "Run the buildspec's batch section (build-graph, build-list, build-matrix, build-fanout).")
    var batch = false

    @Option(
        name: [.short, .long], help: "With --batch: at most this many builds at once; default: the number of cores.")
    var jobs: Int?

    @Flag(
        name: .customLong("combine-artifacts"),
        help: "With --batch: report the builds' artifacts as one combined location (<artifacts>/<identifier>/...).")
    var combineArtifacts = false

    @Flag(name: .shortAndLong, help: "Print only warnings and the verdict: no command output, no live lines.")
    var quiet = false

    @Flag(
        help: """
            Write events as JSON lines on standard output (build and phase start and end, transfer progress); the \
            commands' output and the runner's lines go to standard error.
            """)
    var json = false

    func validate() throws {
        if quiet && json { throw ValidationError("--quiet and --json exclude each other; choose one") }
        if noCache && rerecord {
            throw ValidationError("--rerecord writes phase entries; it cannot go with --no-cache")
        }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be a positive number of minutes") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if (jobs != nil || combineArtifacts) && !batch {
            throw ValidationError("--jobs and --combine-artifacts apply to --batch")
        }
        if let store, !(store.hasPrefix("http://") || store.hasPrefix("https://")) {
            throw ValidationError("--store must be an http:// or https:// URL of a Cairn server, not '\(store)'")
        }
        if let artifacts, !artifacts.hasPrefix("s3://") {
            throw ValidationError("--artifacts must look like s3://BUCKET/PREFIX, not '\(artifacts)'")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let source = URL(fileURLWithPath: sourceDirectory ?? FileManager.default.currentDirectoryPath)
            .standardizedFileURL.path
        do {
            let phaseStore: any PhaseStore
            if let url = store ?? environment["CAIRN_STORE"] {
                guard let credentials = StoreCredentials.resolve(environment: environment) else {
                    throw RunnerError(
                        "no credentials for \(url): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or write ~/.aws/credentials"
                    )
                }
                phaseStore = RemotePhaseStore(endpoint: url, credentials: credentials)
            } else {
                let directory = cacheDirectory ?? LocalPhaseStore.defaultDirectory(environment: environment)
                do {
                    phaseStore = try LocalPhaseStore(dataDirectory: directory)
                } catch {
                    throw RunnerError(
                        "cannot open the local store in \(directory): \(error); name another with --cache-dir")
                }
            }
            var options = BuildOptions(
                sourceDirectory: source, buildspecPath: buildspec.map { URL(fileURLWithPath: $0).path },
                store: phaseStore,
                environment: environment,
                console: .standard(json ? .json : quiet ? .quiet : .human)
            )
            options.useCache = !noCache
            options.rerecord = rerecord
            options.explain = explain
            options.reportPath = report
            options.artifactsDestination = artifacts
            options.zipArtifacts = zipArtifacts
            options.projectName = project
            options.outputDirectory = output.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            options.keepWorkspace = keepWorkspace
            options.image = image ?? environment["CAIRN_BUILD_IMAGE"].flatMap { $0.isEmpty ? nil : $0 }
            options.engine = engine
            options.privileged = privileged
            options.network = network
            if let secretsFile { options.secrets = try SecretsFile.load(path: secretsFile) }
            let interruption = BuildInterruption()
            options.interruption = interruption
            let signalSources = Self.forwardSignals(to: interruption)
            defer { signalSources.forEach { $0.cancel() } }
            let timer = timeout.map { minutes in
                Task {
                    try await Task.sleep(for: .seconds(minutes * 60))
                    FileHandle.standardError.write(Data("\n[cairn] build timed out after \(minutes) minutes\n".utf8))
                    interruption.interrupt(signal: SIGTERM)
                }
            }
            defer { timer?.cancel() }
            if batch {
                let result = try await BatchRunner.run(
                    options, jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
                    combineArtifacts: combineArtifacts)
                if let signal = result.interruptingSignal { throw ExitCode(128 + signal) }
                if !result.succeeded { throw ExitCode(1) }
                return
            }
            let result = try await BuildRunner.run(options)
            if let signal = result.interruptingSignal { throw ExitCode(128 + signal) }
            if !result.succeeded { throw ExitCode(1) }
        } catch let error as BuildspecError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        } catch let error as RunnerError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        } catch let error as ContainerEngineError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// Ctrl-C and SIGTERM stop the build's commands (they run in their own process group) and then the build; a
    /// second one kills the commands' process group and exits at once.
    static func forwardSignals(to interruption: BuildInterruption) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if interruption.interruptingSignal != nil {
                    interruption.killProcessGroups()
                    _exit(128 + number)
                }
                FileHandle.standardError.write(Data("\n[cairn] stopping the build (again to exit at once)\n".utf8))
                interruption.interrupt(signal: number)
            }
            source.resume()
            return source
        }
    }
}
