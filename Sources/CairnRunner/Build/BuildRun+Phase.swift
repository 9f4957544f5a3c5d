import CairnCore
import Foundation

extension BuildRun {
    /// What a phase came to: its result, the snapshot it left and the key inputs it was run or restored under.
    struct PhaseOutcome {
        var result: PhaseResult
        var snapshot: WorkspaceSnapshot
        var inputs: PhaseKeyInputs
    }

    /// Restores `phase` from the store when its key hits; otherwise runs it and stores it when it succeeds.
    ///
    /// `snapshot` is the files as the previous phase left them; `initialState` the session before the first phase.
    func runPhase(
        _ phase: Phase, session: any CommandSession, snapshot: WorkspaceSnapshot, previousKey: String,
        initialState: ShellState, buildSucceeding: Bool, history: BuildHistory?
    ) async throws -> PhaseOutcome {
        let start = Date()
        let before = try await session.state()
        let inputs = try phaseCache.keyInputs(
            for: phase, snapshot: snapshot, state: before, initialState: initialState, previousKey: previousKey,
            buildSucceeding: buildSucceeding
        )
        let caching = options.useCache && buildspec.cairn.phases[phase.name]?.cache != false
        let key = inputs.key
        var result = PhaseResult(
            name: phase.name, status: .succeeded, cache: caching ? .miss : .disabled, key: key.hex,
            durationSeconds: 0, startTime: start.timeIntervalSince1970, endTime: 0
        )
        var snapshot = snapshot
        var flight: PhaseFlights?
        if caching && options.rerecord {
            result.reasons = ["--rerecord: run to replace its entry"]
        } else if caching {
            var stored = try await phaseCache.lookUp(key)
            if stored == nil, let flights = options.phaseFlights {
                if await flights.claim(key.hex) {
                    flight = flights
                } else {
                    // Another build of the batch ran this phase meanwhile: restore what it stored.
                    stored = try await phaseCache.lookUp(key)
                    if stored == nil && interrupted {
                        // It was stopped (Ctrl-C, fast-fail), and so is this build: run nothing more.
                        result.status = .notRun
                        result.endTime = Date().timeIntervalSince1970
                        return PhaseOutcome(result: result, snapshot: snapshot, inputs: inputs)
                    }
                }
            }
            if let manifest = stored {
                console.line("")
                console.line("== \(phase.name.phaseType): restored from the store (key \(key.hex.prefix(12))) ==")
                console.status("\(phase.name.phaseType) restoring")
                console.event(.phaseStarted(phase.name, state: "restoring"))
                defer { console.status(nil) }
                if options.explain { console.line("[cairn] hit: every part of the key matches an earlier build") }
                let restored: WorkspaceSnapshot
                let log: [UInt8]
                do {
                    log = try await phaseCache.log(of: manifest)
                    restored = try await TransferProgress.$current.withValue(
                        console.transfer(.restore, of: phase.name.phaseType)
                    ) { try await phaseCache.restore(manifest, session: session, snapshot: snapshot) }
                } catch {
                    // A blob swept between the lookup and the download, a full disk: run the phase instead.
                    console.notice("[cairn] warning: could not restore \(phase.name.phaseType) (\(error)); running it")
                    snapshot = try await environment.snapshot(extraRoots: declaredOutputRoots)
                    let ran = try await run(
                        phase, key: key, result: result, session: session, snapshot: snapshot, before: before,
                        start: start
                    )
                    return PhaseOutcome(result: ran.result, snapshot: ran.snapshot, inputs: inputs)
                }
                if !log.isEmpty {
                    console.raw(log)
                    if log.last != UInt8(ascii: "\n") { console.line("") }
                }
                console.line(
                    "== \(phase.name.phaseType) RESTORED (ran in " + String(format: "%.2f", manifest.durationSeconds)
                        + " s originally) =="
                )
                result.cache = .hit
                result.endTime = Date().timeIntervalSince1970
                result.durationSeconds = result.endTime - result.startTime
                result.savedSeconds = max(0, manifest.durationSeconds - result.durationSeconds)
                return PhaseOutcome(result: result, snapshot: restored, inputs: inputs)
            }
            if options.explain {
                if let earlier = history?.phases[phase.name.rawValue] {
                    result.reasons = inputs.differences(from: earlier)
                    if result.reasons.isEmpty {
                        result.reasons = ["same key as the last build, but its entry is gone from the store"]
                    }
                } else {
                    result.reasons = ["no earlier build of this project recorded this phase"]
                }
            }
        }
        console.line("")
        console.line(
            "== \(phase.name.phaseType) (key \(key.hex.prefix(12)), \(caching ? "miss" : "cache disabled")) =="
        )
        for reason in result.reasons { console.line("[cairn] miss: \(reason)") }
        console.status("\(phase.name.phaseType) running")
        console.event(.phaseStarted(phase.name, state: "running"))
        defer { console.status(nil) }
        let ran: (result: PhaseResult, snapshot: WorkspaceSnapshot)
        do {
            ran = try await run(
                phase, key: key, result: result, session: session, snapshot: snapshot, before: before, start: start
            )
        } catch {
            await flight?.release(key.hex)
            throw error
        }
        await flight?.release(key.hex)
        return PhaseOutcome(result: ran.result, snapshot: ran.snapshot, inputs: inputs)
    }

    /// Runs a phase that missed (or could not be restored), captures its effect and stores it when it succeeds.
    private func run(
        _ phase: Phase, key: PhaseKey, result: PhaseResult, session: any CommandSession, snapshot: WorkspaceSnapshot,
        before: ShellState, start: Date
    ) async throws -> (result: PhaseResult, snapshot: WorkspaceSnapshot) {
        var result = result
        let caching = result.cache != .disabled
        let host = environment as? HostEnvironment
        let marks = caching ? host?.outsideWatch.take() : nil
        let execution = try await executor.run(phase, in: session)
        if let host, let marks {
            warnAboutOutsideChanges(of: phase, watch: host.outsideWatch, before: marks)
        }
        result.attempts = execution.attempts
        result.status = execution.succeeded ? .succeeded : .failed
        let after = try await environment.snapshot(extraRoots: declaredOutputRoots)
        let end = Date()
        result.endTime = end.timeIntervalSince1970
        result.durationSeconds = end.timeIntervalSince(start)
        console.line(
            "== \(phase.name.phaseType) \(result.status.rawValue) in " + String(format: "%.2f", result.durationSeconds)
                + " s =="
        )
        if execution.succeeded && caching {
            let state = try await session.state()
            console.status("\(phase.name.phaseType) storing")
            do {
                try await TransferProgress.$current.withValue(console.transfer(.store, of: phase.name.phaseType)) {
                    try await phaseCache.record(
                        key: key, phase: phase, changes: snapshot.changes(to: after), before: before, after: state,
                        log: execution.log, duration: result.durationSeconds
                    )
                }
                result.stored = true
            } catch {
                console.notice("[cairn] warning: \(phase.name.phaseType) ran but could not be stored: \(error)")
                result.reasons.append("not stored: \(error)")
            }
        }
        return (result, after)
    }

    /// Warns when a phase on the host changed directories its entry does not hold (outside the workspace and the
    /// declared outputs): restored elsewhere, those changes would be missing.
    private func warnAboutOutsideChanges(of phase: Phase, watch: OutsideChangeWatch, before: OutsideChangeWatch.Marks) {
        let declared = declaredOutputRoots
        let changed = watch.changes(from: before, to: watch.take()).filter { path in
            !declared.contains { path == $0 || path.hasPrefix($0 + "/") || $0.hasPrefix(path + "/") }
        }
        guard !changed.isEmpty else { return }
        let shown = changed.prefix(5).map(paths.portable).joined(separator: ", ")
        console.notice(
            "[cairn] warning: \(phase.name.phaseType) changed files outside the workspace that its entry does not hold: "
                + shown + (changed.count > 5 ? " and \(changed.count - 5) more" : "")
                + ". A build that restores it will not have them: declare them (cairn: phases.\(phase.name.rawValue)"
                + ".outputs) or build in a container (--image)."
        )
    }
}
