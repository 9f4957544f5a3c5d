import Yams

/// One server setting, declared once: its key in the configuration file, its environment variable, its flag, its
/// format and the property of ``ServerSettings`` it sets.
///
/// ``all`` is the table that loading the file, reading the environment, applying flags, refusing unknown keys and
/// `cairn serve --help` all work from. The default is the property's initial value in ``ServerSettings``.
public struct ServerSetting: Sendable {
    /// The dotted key path in `config/cairn.yaml`: `server.address`.
    public let key: String
    /// The `CAIRN_…` variable that overrides the file.
    public let environmentVariable: String
    /// The long flag of `cairn serve` that overrides the environment, without its dashes; most settings have none.
    public let flag: String?
    /// One line on what the setting does.
    public let summary: String
    /// What a valid value is, completing "… must be".
    public let expectation: String
    private let parseText: @Sendable (String, inout ServerSettings) throws -> Bool
    private let parseNode: @Sendable (Node, inout ServerSettings) throws -> Bool
    private let reset: @Sendable (inout ServerSettings) -> Void
    private let render: @Sendable (ServerSettings) -> String

    init<Value>(
        _ key: String, _ property: any WritableKeyPath<ServerSettings, Value> & Sendable,
        _ format: SettingFormat<Value>,
        environmentVariable: String? = nil, flag: String? = nil, summary: String
    ) {
        self.key = key
        self.environmentVariable = environmentVariable ?? Self.environmentVariable(for: key)
        self.flag = flag
        self.summary = summary
        expectation = format.expectation
        parseText = { text, settings in
            guard let value = try format.parseText(text, key) else { return false }
            settings[keyPath: property] = value
            return true
        }
        parseNode = { node, settings in
            guard let value = try format.parseNode(node, key) else { return false }
            settings[keyPath: property] = value
            return true
        }
        reset = { $0[keyPath: property] = ServerSettings()[keyPath: property] }
        render = { format.render($0[keyPath: property]) }
    }

    /// `CAIRN_` and the key path in capitals with `_` for `.`; the keys of `server`, `s3` and `auth` are plain
    /// enough without their section (`CAIRN_DATA_DIR`), those of `cache` and `retention` are not
    /// (`CAIRN_RETENTION_BATCH_SIZE`).
    static func environmentVariable(for key: String) -> String {
        var parts = key.split(separator: ".")
        if let section = parts.first, ["server", "s3", "auth"].contains(section) { parts.removeFirst() }
        return "CAIRN_" + parts.joined(separator: "_").uppercased()
    }

    /// The setting's value in `settings`, written as in the configuration file (`null` when absent).
    public func value(in settings: ServerSettings) -> String { render(settings) }

    /// The built-in default, written as in the configuration file.
    public var defaultValue: String { render(ServerSettings()) }

    /// The help of the setting's flag: what it does, its default and its environment variable.
    public var help: String {
        let value = defaultValue
        return "\(summary)\(value == "null" ? "" : " (default \(value))"). Env: \(environmentVariable)."
    }

    /// Sets the setting from the text of its environment variable or flag; `source` names that in an error.
    func apply(text: String, from source: String, to settings: inout ServerSettings) throws {
        let parsed: Bool
        do { parsed = try parseText(text, &settings) } catch { throw SettingsError("\(source): \(error)") }
        guard parsed else { throw SettingsError("\(source) must be \(expectation)") }
    }

    /// Sets the setting from its node in the configuration file; `null` means the built-in default.
    func apply(node: Node, to settings: inout ServerSettings) throws {
        if node.null != nil { return reset(&settings) }
        guard try parseNode(node, &settings) else { throw SettingsError("\(key) must be \(expectation)") }
    }
}
