import Foundation

/// Runs a buildspec the way CodeBuild does, skipping every phase whose key the store has seen.
public enum BuildRunner {
    /// Runs the build. Throws before running anything when the buildspec or the options are invalid; a failing
    /// command does not throw, it makes the result fail.
    public static func run(_ options: BuildOptions) async throws -> BuildResult {
        let buildspec = try Buildspec.load(path: options.buildspecPath)
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
