import CairnCore

extension PhaseCache {
    /// Everything that determines `phase`'s result in this build, from the files and the session it starts with.
    ///
    /// `initialState` is the session before the first phase: what earlier phases changed since is part of the key.
    func keyInputs(
        for phase: Phase, snapshot: WorkspaceSnapshot, state: ShellState, initialState: ShellState,
        previousKey: String, buildSucceeding: Bool
    ) throws -> PhaseKeyInputs {
        let settings = buildspec.cairn.phases[phase.name]
        // What earlier phases did to the session. With every phase cached this follows from the previous key, but
        // a phase that always runs (`cache: no`) may export something new each build, and later phases read it.
        var session: [Buildspec.NameValue] = []
        for (name, value) in state.environment.sorted(by: { $0.key < $1.key })
        where initialState.environment[name] != value {
            session.append(.init(name: name, value: paths.tokenize(value)))
        }
        for name in initialState.environment.keys.sorted() where state.environment[name] == nil {
            session.append(.init(name: name, value: "(unset)"))
        }
        for (name, value) in state.variables.sorted(by: { $0.key < $1.key }) where initialState.variables[name] != value
        {
            session.append(.init(name: "shell variable " + name, value: paths.tokenize(value)))
        }
        let inputs = try InputFiles.select(from: snapshot, patterns: settings?.inputs, excluding: runnerFiles)
        return PhaseKeyInputs(
            phase: phase.name.rawValue, shell: shellName, commands: phase.commands.map(\.text),
            finally: phase.finally.map(\.text), onFailure: phase.onFailure?.text ?? "",
            runAs: phase.runAs ?? buildspec.runAs ?? "",
            runtimeVersions: phase.runtimeVersions, variables: buildspec.env.variables,
            secrets: secretValues.map { .init(name: $0.name, value: MessageDigest.sha256Hex($0.value)) },
            environmentInputs: buildspec.cairn.envInputs.map { .init(name: $0, value: outerEnvironment[$0] ?? "") },
            image: environment.identity == "host"
                ? "host " + (outerEnvironment["CODEBUILD_BUILD_IMAGE"] ?? "") : environment.identity,
            workspace: environment.sourceDirectory, inputFiles: inputs,
            inputPatterns: settings?.inputs ?? [],
            outputs: (settings?.outputs ?? [])
                + (buildspec.cache?.paths.filter { $0.hasPrefix("/") || $0.hasPrefix("~/") } ?? []),
            previousKey: previousKey, buildSucceeding: buildSucceeding, sessionVariables: session,
            workingDirectory: paths.tokenize(paths.relativeDirectory(state.workingDirectory))
        )
    }
}
