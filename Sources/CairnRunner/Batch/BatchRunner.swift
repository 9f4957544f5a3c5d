import Foundation

/// Runs a buildspec's `batch` section: each build with options of its own, concurrently, over one store.
public enum BatchRunner {
    /// The shard variables a `build-fanout` build is given (they join its phase keys: each shard runs its own part).
    public static let shardIndexVariable = "CAIRN_SHARD_INDEX"
    public static let shardCountVariable = "CAIRN_SHARD_COUNT"

    /// Runs the batch of `options.buildspecPath`: at most `jobs` builds at once, each build's output prefixed with its
    /// identifier, then a table. Throws before anything runs when a buildspec of the batch is invalid.
    ///
    /// Each build gets a copy of `options` with its identifier, its buildspec, its variables (and shard), its image,
    /// `<artifacts>/<identifier>` as artifact destination, `<output>/<identifier>` as output directory and, with a
    /// report, `<report>.<identifier>.json`. All builds share `options.interruption` (Ctrl-C and `fast-fail` stop
    /// them all) and one ``PhaseFlights``, so a phase key two builds reach at once runs once.
    public static func run(_ options: BuildOptions, jobs: Int, combineArtifacts: Bool = false) async throws
        -> BatchResult
    {
        let top = try Buildspec.load(path: options.buildspecPath)
        guard let batch = top.batch else {
            throw RunnerError(
                "\(options.buildspecPath) has no batch section; run it without --batch, or add batch: build-list")
        }
        var loaded: [String: Buildspec] = [:]
        for task in batch.tasks {
            let path = buildspecPath(task, options: options)
            if loaded[path] == nil { loaded[path] = try Buildspec.load(path: path) }
        }
        let buildspecs = loaded
        // Every buildspec and report of the batch is the runner's, whichever build reads or writes it.
        let runnerFiles =
            [options.buildspecPath] + Array(buildspecs.keys)
            + (options.reportPath.map { path in [path] + batch.tasks.map { reportPath(path, identifier: $0.identifier) }
            }
                ?? [])
        let interruption = options.interruption ?? BuildInterruption()
        let flights = PhaseFlights()
        let console = options.console
        let project =
            options.projectName
            ?? URL(fileURLWithPath: options.sourceDirectory).standardizedFileURL.lastPathComponent
        let destination = options.artifactsDestination ?? "s3://cairn-artifacts/\(project)"
        console.line(
            "[cairn] batch \(batch.form.rawValue): \(batch.tasks.count) builds, at most \(jobs) at once"
                + (batch.fastFail ? ", fast-fail" : ""))
        for note in batch.localNotes { console.line("[cairn] note: \(note)") }

        let start = Date()
        let scheduler = BatchScheduler(
            tasks: batch.tasks, jobs: jobs, fastFail: batch.fastFail, interruption: interruption)
        let builds = await scheduler.run { task in
            var build = options
            build.buildspecPath = buildspecPath(task, options: options)
            build.batchIdentifier = task.identifier
            build.variableOverrides = task.variables
            if let shard = task.shard {
                build.variableOverrides += [
                    .init(name: shardIndexVariable, value: String(shard.index)),
                    .init(name: shardCountVariable, value: String(shard.count)),
                ]
            }
            build.image = task.image ?? options.image
            build.privileged = task.privilegedMode ?? options.privileged
            build.artifactsDestination = destination + "/" + task.identifier
            build.outputDirectory = options.outputDirectory.map { $0 + "/" + task.identifier }
            build.reportPath = options.reportPath.map { reportPath($0, identifier: task.identifier) }
            build.interruption = interruption
            build.phaseFlights = flights
            build.runnerFiles = runnerFiles
            let (prefixed, lines) = console.prefixed(task.identifier)
            build.console = prefixed
            defer { lines.flush() }
            var outcome = BatchBuildResult(task: task, status: .fault)
            do {
                let result = try await BuildRunner.run(build, buildspec: buildspecs[build.buildspecPath]!)
                outcome.result = result
                outcome.reportPath = build.reportPath
                outcome.status =
                    result.interruptingSignal != nil ? .stopped : result.succeeded ? .succeeded : .failed
            } catch {
                prefixed.line("error: \(error)")
                outcome.reason = "\(error)"
            }
            return outcome
        }
        var result = BatchResult(
            builds: builds, startTime: start.timeIntervalSince1970, endTime: Date().timeIntervalSince1970)
        // fast-fail stops the builds with the shared interruption too; only a signal from outside stops the batch.
        result.interruptingSignal = await scheduler.outsideSignal
        console.batchSummary(of: result)
        if let path = options.reportPath {
            let report = BatchReport(
                result: result, projectName: project,
                combinedArtifacts: combineArtifacts ? destination : nil)
            try report.write(to: path)
            console.line("[cairn] batch report written to \(path)")
        }
        return result
    }

    static func buildspecPath(_ task: BatchTask, options: BuildOptions) -> String {
        guard let relative = task.buildspec else { return options.buildspecPath }
        return relative.hasPrefix("/") ? relative : options.sourceDirectory + "/" + relative
    }

    /// `out/report.json` → `out/report.build1.json`.
    static func reportPath(_ path: String, identifier: String) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        return url.deletingPathExtension().path + "." + identifier + (ext.isEmpty ? "" : "." + ext)
    }
}
