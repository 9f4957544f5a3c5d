import Foundation

extension BuildRun {
    /// The `parameter-store` and `secrets-manager` values, from `--secrets-file` or the environment.
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

    /// Fails when the buildspec asks for another user than the current one: the runner cannot switch users.
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
}
