import CairnCore
import Foundation

extension BuildRun {
    struct PhaseOutcome {
        var result: PhaseResult
        var snapshot: WorkspaceSnapshot
    }

    func keyInputs(
        for phase: Phase, snapshot: WorkspaceSnapshot, state: ShellState, previousKey: String
    ) throws -> PhaseKeyInputs {
        let settings = buildspec.cairn.phases[phase.name]
        // What earlier phases did to the session. With every phase cached this follows from the previous key, but
        // a phase that always runs (`cache: no`) may export something new each build, and later phases read it.
        var session: [Buildspec.NameValue] = []
        for (name, value) in state.environment.sorted(by: { $0.key < $1.key })
        where initialState.environment[name] != value {
            session.append(.init(name: name, value: tokenize(value)))
        }
        for name in initialState.environment.keys.sorted() where state.environment[name] == nil {
            session.append(.init(name: name, value: "(unset)"))
        }
        for (name, value) in state.variables.sorted(by: { $0.key < $1.key }) where initialState.variables[name] != value
        {
            session.append(.init(name: "shell variable " + name, value: tokenize(value)))
        }
        let inputs = try InputFiles.select(
            from: snapshot, sourceDirectory: sourceDirectory, patterns: settings?.inputs,
            excluding: runnerFiles
        )
        return PhaseKeyInputs(
            phase: phase.name.rawValue, shell: shellName, commands: phase.commands.map(\.text),
            finally: phase.finally.map(\.text), onFailure: phase.onFailure?.text ?? "",
            runAs: phase.runAs ?? buildspec.runAs ?? "",
            runtimeVersions: phase.runtimeVersions, variables: buildspec.env.variables,
            secrets: secretValues.map { .init(name: $0.name, value: MessageDigest.sha256Hex($0.value)) },
            environmentInputs: buildspec.cairn.envInputs.map { .init(name: $0, value: options.environment[$0] ?? "") },
            image: options.environment["CODEBUILD_BUILD_IMAGE"] ?? "local", inputFiles: inputs,
            inputPatterns: settings?.inputs ?? [],
            outputs: (settings?.outputs ?? [])
                + (buildspec.cache?.paths.filter { $0.hasPrefix("/") || $0.hasPrefix("~/") } ?? []),
            previousKey: previousKey, buildSucceeding: succeeding, sessionVariables: session,
            workingDirectory: tokenize(relativeDirectory(state.workingDirectory))
        )
    }

    /// Files of the runner's own in the source tree (the buildspec, the report): never phase inputs.
    var runnerFiles: Set<String> {
        Set(
            [options.buildspecPath, options.reportPath].compactMap { $0 }.map {
                relativeDirectory(URL(fileURLWithPath: $0).standardizedFileURL.path)
            })
    }

    func runPhase(
        _ phase: Phase, shell: ShellSession, snapshot: WorkspaceSnapshot, previousKey: String
    ) async throws -> PhaseOutcome {
        let start = Date()
        let before = try await shell.state()
        let inputs = try keyInputs(for: phase, snapshot: snapshot, state: before, previousKey: previousKey)
        let caching = options.useCache && buildspec.cairn.phases[phase.name]?.cache != false
        let key = inputs.key
        newHistory[phase.name.rawValue] = inputs
        var result = PhaseResult(
            name: phase.name, status: .succeeded, cache: caching ? .miss : .disabled, key: key.hex,
            durationSeconds: 0, startTime: start.timeIntervalSince1970, endTime: 0
        )
        var snapshot = snapshot
        if caching {
            if let manifest = try await lookUp(key) {
                console.line("")
                console.line("== \(phase.name.phaseType): restored from the store (key \(key.hex.prefix(12))) ==")
                if options.explain { console.line("[cairn] hit: every part of the key matches an earlier build") }
                let restored: WorkspaceSnapshot
                let log: [UInt8]
                do {
                    log = try await store.read(manifest.log.digest)
                    restored = try await restore(manifest, shell: shell, snapshot: snapshot)
                } catch {
                    // A blob swept between the lookup and the download, a full disk: run the phase instead.
                    console.line("[cairn] warning: could not restore \(phase.name.phaseType) (\(error)); running it")
                    snapshot = try scanner.snapshot(extraRoots: declaredOutputRoots)
                    return try await run(
                        phase, key: key, result: result, shell: shell, snapshot: snapshot, before: before, start: start
                    )
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
                return PhaseOutcome(result: result, snapshot: restored)
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
        return try await run(
            phase, key: key, result: result, shell: shell, snapshot: snapshot, before: before, start: start
        )
    }

    /// Runs a phase that missed (or could not be restored) and stores it when it succeeds.
    private func run(
        _ phase: Phase, key: PhaseKey, result: PhaseResult, shell: ShellSession, snapshot: WorkspaceSnapshot,
        before: ShellState, start: Date
    ) async throws -> PhaseOutcome {
        var result = result
        let caching = result.cache != .disabled

        let log = LogBuffer()
        let console = self.console
        let output: @Sendable ([UInt8]) -> Void = { bytes in
            console.raw(bytes)
            log.append(bytes)
        }
        var attempt = 0
        var succeeded = false
        while true {
            attempt += 1
            let attemptLog = LogBuffer()
            let attemptOutput: @Sendable ([UInt8]) -> Void = { bytes in
                output(bytes)
                attemptLog.append(bytes)
            }
            succeeded = try await runCommands(phase, shell: shell, output: attemptOutput)
            if succeeded { break }
            guard case .retry(let count, let pattern)? = phase.onFailure, attempt <= count, !interrupted else { break }
            let text = String(decoding: attemptLog.contents, as: UTF8.self)
            guard
                (try? NSRegularExpression(pattern: pattern))?.firstMatch(
                    in: text, range: NSRange(text.startIndex..., in: text)) != nil
            else {
                console.line("[cairn] not retrying \(phase.name.phaseType): its output does not match /\(pattern)/")
                break
            }
            console.line("[cairn] \(phase.name.phaseType) failed; retry \(attempt) of \(count)")
        }
        result.attempts = attempt
        if interrupted { succeeded = false }
        result.status = succeeded ? .succeeded : .failed
        let after = try scanner.snapshot(extraRoots: declaredOutputRoots)
        let end = Date()
        result.endTime = end.timeIntervalSince1970
        result.durationSeconds = end.timeIntervalSince(start)
        console.line(
            "== \(phase.name.phaseType) \(result.status.rawValue) in " + String(format: "%.2f", result.durationSeconds)
                + " s =="
        )
        if succeeded && caching {
            let state = try await shell.state()
            do {
                try await storePhase(
                    key: key, phase: phase, changes: snapshot.changes(to: after), before: before, after: state,
                    log: log.contents, duration: result.durationSeconds
                )
                result.stored = true
            } catch {
                console.line("[cairn] warning: \(phase.name.phaseType) ran but could not be stored: \(error)")
                result.reasons.append("not stored: \(error)")
            }
        }
        return PhaseOutcome(result: result, snapshot: after)
    }

    /// Runs `commands`, stopping at the first failure, then `finally`; true when every command succeeded.
    func runCommands(_ phase: Phase, shell: ShellSession, output: @escaping @Sendable ([UInt8]) -> Void) async throws
        -> Bool
    {
        var succeeded = true
        // The runner's lines go into the phase's log too, so a restored phase replays them.
        let line: (String) -> Void = { output(Array(($0 + "\n").utf8)) }
        for command in phase.commands {
            if interrupted { return false }
            line("[cairn] Running command \(command.text)")
            let status = try await shell.run(command.text, output: output)
            if status != 0 {
                line("[cairn] Command did not exit successfully \(command.text) exit status \(status)")
                succeeded = false
                break
            }
        }
        for command in phase.finally {
            if interrupted { return false }
            line("[cairn] Running command \(command.text)")
            let status = try await shell.run(command.text, output: output)
            if status != 0 {
                line("[cairn] Command did not exit successfully \(command.text) exit status \(status)")
                succeeded = false
            }
        }
        return succeeded
    }

    // MARK: Store and restore

    func lookUp(_ key: PhaseKey) async throws -> PhaseManifest? {
        guard let entry = try await store.entry(namespace: PhaseManifest.namespace, key: key.hex) else { return nil }
        do {
            let manifest = try JSONValueDecoder().decode(
                PhaseManifest.self, from: try await store.read(entry.value.digest))
            return manifest.key == key.hex ? manifest : nil
        } catch {
            console.line("[cairn] warning: ignoring an unreadable entry for key \(key.hex.prefix(12)): \(error)")
            return nil
        }
    }

    func storePhase(
        key: PhaseKey, phase: Phase, changes: WorkspaceChanges, before: ShellState, after: ShellState, log: [UInt8],
        duration: Double
    ) async throws {
        var files: [(path: String, digest: BlobDigest, size: Int64)] = []
        for (path, record) in changes.changed where record.kind == .file {
            guard let digest = record.digest else { continue }
            files.append((absolute(path), digest, record.size))
        }
        let uploaded = try await store.uploadMissing(files)
        let logSegment = try await store.upload(bytes: log)
        var set: [String: String] = [:]
        for (name, value) in after.environment where before.environment[name] != value {
            set[name] = tokenize(value)
        }
        let unset = before.environment.keys.filter { after.environment[$0] == nil }.sorted()
        var manifest = PhaseManifest(
            phase: phase.name.rawValue, key: key.hex, changes: portable(changes), setVariables: set,
            unsetVariables: unset,
            workingDirectory: relativeDirectory(after.workingDirectory), log: logSegment, durationSeconds: duration
        )
        manifest.shellVariables = after.variables.filter { before.variables[$0.key] != $0.value }.mapValues(tokenize)
        manifest.unsetShellVariables = before.variables.keys.filter {
            after.variables[$0] == nil && after.environment[$0] == nil
        }.sorted()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let value = try await store.upload(bytes: Array(try encoder.encode(manifest)))
        let total = value.size + logSegment.size + files.reduce(0) { $0 + $1.size }
        try await store.putEntry(
            ActionEntry(
                namespace: PhaseManifest.namespace, key: key.hex, value: value, references: manifest.references,
                attributes: ["phase": phase.name.rawValue, "duration": String(format: "%.3f", duration)],
                totalSize: total
            )
        )
        console.line(
            "[cairn] stored \(phase.name.phaseType): \(changes.changed.count) changed, \(changes.deleted.count) deleted, "
                + "\(uploaded.count) new blobs (\(uploaded.bytes) bytes)"
        )
    }

    /// The path on this machine of a recorded path: relative to the source directory, `~/…`, or absolute.
    func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/") { return expandHome(path) }
        return sourceDirectory + "/" + path
    }

    /// A snapshot key for a recorded path (`~/…` expanded; source paths stay relative).
    func local(_ path: String) -> String {
        path.hasPrefix("~/") ? expandHome(path) : path
    }

    /// Paths under the home directory recorded as `~/…`, so another machine (another home) restores them right.
    func portable(_ path: String) -> String {
        let home = options.environment["HOME"] ?? NSHomeDirectory()
        guard path.hasPrefix("/"), !home.isEmpty, home != "/", path.hasPrefix(home + "/") else { return path }
        return "~" + path.dropFirst(home.count)
    }

    /// Text with this build's helper directory, source directory and home replaced by tokens.
    func tokenize(_ text: String) -> String {
        var text = text.replacingOccurrences(of: helperDirectory, with: PhaseManifest.helperDirectoryToken)
            .replacingOccurrences(of: sourceDirectory, with: PhaseManifest.sourceDirectoryToken)
        let home = options.environment["HOME"] ?? NSHomeDirectory()
        if home.count > 1 { text = text.replacingOccurrences(of: home, with: PhaseManifest.homeToken) }
        return text
    }

    func detokenize(_ text: String) -> String {
        text.replacingOccurrences(of: PhaseManifest.helperDirectoryToken, with: helperDirectory)
            .replacingOccurrences(of: PhaseManifest.sourceDirectoryToken, with: sourceDirectory)
            .replacingOccurrences(of: PhaseManifest.homeToken, with: options.environment["HOME"] ?? NSHomeDirectory())
    }

    func portable(_ changes: WorkspaceChanges) -> WorkspaceChanges {
        WorkspaceChanges(
            changed: Dictionary(changes.changed.map { (portable($0.key), $0.value) }, uniquingKeysWith: { $1 }),
            deleted: changes.deleted.map(portable)
        )
    }

    func relativeDirectory(_ directory: String) -> String {
        if directory == sourceDirectory { return "." }
        if directory.hasPrefix(sourceDirectory + "/") { return String(directory.dropFirst(sourceDirectory.count + 1)) }
        return directory
    }

    /// Applies a stored phase to the workspace and the shell; returns the snapshot a real run would have left.
    func restore(_ manifest: PhaseManifest, shell: ShellSession, snapshot: WorkspaceSnapshot) async throws
        -> WorkspaceSnapshot
    {
        var result = snapshot
        try await WorkspaceRestorer(store: store).apply(
            manifest.changes, current: snapshot, absolute: absolute
        )
        for path in manifest.changes.deleted { result.entries[local(path)] = nil }
        for (path, record) in manifest.changes.changed { result.entries[local(path)] = record }
        let set = manifest.setVariables.mapValues(detokenize)
        let directory = manifest.workingDirectory == "." ? sourceDirectory : absolute(manifest.workingDirectory)
        let assignments = (manifest.shellVariables ?? [:]).sorted { $0.key < $1.key }.map { detokenize($0.value) }
        try await shell.apply(
            set: set, unset: manifest.unsetVariables + (manifest.unsetShellVariables ?? []),
            workingDirectory: directory,
            assignments: assignments
        )
        return result
    }
}
