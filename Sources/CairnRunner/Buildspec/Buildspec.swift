/// A CodeBuild buildspec (version 0.2), validated: every key is known and every value has the right shape.
///
/// Values that YAML would turn into numbers (`0755`, `1:30`) are kept as the text the file holds.
public struct Buildspec: Sendable, Hashable {
    /// `version`; always `0.2`.
    public var version: String
    /// `run-as` at the top level, when given.
    public var runAs: String?
    /// The `env` section.
    public var env: Environment
    /// The declared phases, in CodeBuild's order.
    public var phases: [Phase]
    /// The `artifacts` section, when given.
    public var artifacts: ArtifactSpec?
    /// The `reports` section: one group per entry, in file order.
    public var reports: [ReportGroup]
    /// CodeBuild's `cache` section, when given.
    public var cache: CacheSpec?
    /// Cairn's own optional `cairn` section.
    public var cairn: CairnExtension
    /// The `batch` section, when given: the builds `cairn build --batch` runs (a plain build ignores it).
    public var batch: BatchSpec?
    /// What keys that only mean something inside AWS mean here (printed before the build starts).
    public var localNotes: [String] = []

    /// The phase with this name, when declared.
    public func phase(_ name: PhaseName) -> Phase? { phases.first { $0.name == name } }
}

extension Buildspec {
    /// The `env` section.
    public struct Environment: Sendable, Hashable {
        /// `env: shell`: `bash` or `/bin/sh` (the default).
        public var shell: String?
        /// `env: variables`, verbatim, in file order.
        public var variables: [NameValue] = []
        /// `env: parameter-store`: local name → parameter name.
        public var parameterStore: [NameValue] = []
        /// `env: secrets-manager`: local name → `secret-id:json-key:version-stage:version-id`.
        public var secretsManager: [NameValue] = []
        /// `env: exported-variables`.
        public var exportedVariables: [String] = []
        /// `env: git-credential-helper`.
        public var gitCredentialHelper: String?
    }

    /// One `NAME: value` pair, in file order.
    public struct NameValue: Sendable, Hashable, Codable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }
}
