import Foundation
import Yams

extension ServerSettings {
    /// Settings from the configuration file and the environment, the way every command that reads them resolves
    /// them: `configFile` (a flag), else the file ``configFileEnvironmentVariable`` names, else
    /// ``defaultConfigFile`` if it exists; then every ``ServerSetting/environmentVariable`` over it.
    public static func resolve(configFile: String?, environment: [String: String]) throws -> ServerSettings {
        let explicitFile = configFile ?? environment[configFileEnvironmentVariable]
        var settings = try load(file: explicitFile ?? defaultConfigFile, required: explicitFile != nil)
        try settings.applyEnvironment(environment)
        return settings
    }

    /// Settings from a YAML configuration file (see `config/cairn.yaml` for every key).
    ///
    /// Unknown keys are errors that name the key, so a typo does not silently do nothing; `null` means the built-in
    /// default.
    /// - Parameter required: when false, a missing file means "use the defaults".
    public static func load(file: String, required: Bool) throws -> ServerSettings {
        guard FileManager.default.fileExists(atPath: file) else {
            if required { throw SettingsError("configuration file \(file) does not exist") }
            return ServerSettings()
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        // Nested YAML aliases can take minutes to expand; a real configuration is a few kilobytes.
        if let size = attributes[.size] as? Int, size > 1_048_576 {
            throw SettingsError("configuration file \(file) is larger than 1 MiB")
        }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        do {
            return try decode(text)
        } catch {
            throw SettingsError("configuration file \(file): \(error)")
        }
    }

    /// Settings from the text of a configuration file.
    static func decode(_ text: String) throws -> ServerSettings {
        var settings = ServerSettings()
        guard let root = try Yams.compose(yaml: text) else { return settings }
        guard let top = root.mapping else { throw SettingsError("the top level must be a mapping") }
        try settings.apply(top, under: "")
        return settings
    }

    /// Applies the mapping at key path `prefix`: a key is a setting, a section holding settings, or an error.
    private mutating func apply(_ mapping: Node.Mapping, under prefix: String) throws {
        for (keyNode, value) in mapping {
            let name = keyNode.string ?? "\(keyNode)"
            let key = prefix.isEmpty ? name : "\(prefix).\(name)"
            if let setting = ServerSetting.all.first(where: { $0.key == key }) {
                try setting.apply(node: value, to: &self)
            } else if ServerSetting.all.contains(where: { $0.key.hasPrefix(key + ".") }) {
                if value.null != nil { continue }
                guard let section = value.mapping else { throw SettingsError("\"\(key)\" must be a mapping") }
                try apply(section, under: key)
            } else {
                throw SettingsError(prefix.isEmpty ? "unknown section \"\(key)\"" : "unknown key \"\(key)\"")
            }
        }
    }

    /// Applies every `CAIRN_*` variable of ``ServerSetting/all`` that `environment` sets over the current values.
    public mutating func applyEnvironment(_ environment: [String: String]) throws {
        for setting in ServerSetting.all {
            guard let text = environment[setting.environmentVariable] else { continue }
            try setting.apply(text: text, from: setting.environmentVariable, to: &self)
        }
    }

    /// Applies the value given to `setting`'s flag over the current values.
    public mutating func applyFlag(_ setting: ServerSetting, _ text: String) throws {
        try setting.apply(text: text, from: "--\(setting.flag ?? setting.key)", to: &self)
    }
}
