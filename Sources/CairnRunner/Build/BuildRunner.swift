import Foundation

/// Runs a buildspec the way CodeBuild does, skipping every phase whose key the store has seen.
public enum BuildRunner {
    /// Runs the build. Throws before running anything when the buildspec or the options are invalid; a failing
    /// command does not throw, it makes the result fail.
    /// An unreachable store is not one: the cache is an optimisation, so the build runs without it, after one
    /// warning. A store that refuses the credentials is one.
    public static func run(_ options: BuildOptions) async throws -> BuildResult {
        try await run(options, buildspec: try Buildspec.load(path: options.buildspecPath))
    }

    /// Runs a buildspec already read from ``BuildOptions/buildspecPath``.
    static func run(_ options: BuildOptions, buildspec: Buildspec) async throws -> BuildResult {
        var buildspec = buildspec
        for variable in options.variableOverrides {
            if let index = buildspec.env.variables.firstIndex(where: { $0.name == variable.name }) {
                buildspec.env.variables[index].value = variable.value
            } else {
                buildspec.env.variables.append(variable)
            }
        }
        var options = options
        do {
            try await options.store.checkAccess()
        } catch let error as RunnerError where error.kind == .storeUnreachable {
            options.console.notice(
                "[cairn] warning: \(error); building without the cache: every phase runs, nothing is stored, "
                    + "and an artifact upload fails"
            )
            options.useCache = false
            options.storeReachable = false
        }
        let run = try await BuildRun(options: options, buildspec: buildspec)
        do {
            let result = try await run.execute()
            await run.environment.close()
            return result
        } catch {
            await run.environment.close()
            throw error
        }
    }
}
