import Foundation
import Yams

extension Buildspec {
    /// The largest buildspec accepted: nested YAML aliases can otherwise take minutes to expand.
    public static let maximumSize = 256 * 1024

    /// Reads and validates a buildspec file.
    public static func load(path: String) throws -> Buildspec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BuildspecError(file: path, key: "", line: nil, message: "cannot read the buildspec")
        }
        guard data.count <= maximumSize else {
            throw BuildspecError(
                file: path, key: "", line: nil,
                message: "the buildspec is \(data.count) bytes; at most \(maximumSize) are accepted"
            )
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    /// Parses and validates buildspec text; `file` names it in errors.
    public static func parse(_ text: String, file: String = "buildspec.yml") throws -> Buildspec {
        guard text.utf8.count <= maximumSize else {
            throw BuildspecError(
                file: file, key: "", line: nil, message: "the buildspec is larger than \(maximumSize) bytes")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw BuildspecError(
                file: file, key: "", line: Self.line(of: error, in: text), message: Self.summary(of: error, in: text))
        }
        guard let root else { throw BuildspecError(file: file, key: "", line: 1, message: "the buildspec is empty") }
        return try BuildspecReader(file: file).read(root)
    }

    private static func line(of error: YamlError, in text: String) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        case .duplicatedKeysInMapping(let duplicates, let context):
            duplicates.first.flatMap { repeatedKeyLine($0, firstAt: context.mark, in: text) } ?? context.mark.line
        default: nil
        }
    }

    private static func summary(of error: YamlError, in text: String) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
            .composer(let context, let problem, _, _):
            "invalid YAML: \(problem)" + (context.map { " (\($0.text))" } ?? "")
        case .duplicatedKeysInMapping(let duplicates, let context):
            "duplicate key \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", "))"
                + (duplicates.first.flatMap { repeatedKeyLine($0, firstAt: context.mark, in: text) } == nil
                    ? "" : " (first at line \(context.mark.line))")
        default: "invalid YAML: \(error)"
        }
    }

    /// The line of the second `key` in the block mapping whose first `key` is at `mark`: Yams reports a duplicate
    /// key where it first appears, but the line to fix is the one that repeats it. Nil when the mapping is not a
    /// block mapping the search can follow (a flow mapping, a key spelled differently).
    static func repeatedKeyLine(_ key: String, firstAt mark: Mark, in text: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let spellings = [key, "\"\(key)\"", "'\(key)'"]
        // `mark.line` counts from 1, so this starts at the line after the first key.
        for index in mark.line..<lines.count {
            let scalars = Array(lines[index].unicodeScalars)
            let indent = scalars.prefix { $0 == " " }.count
            if indent == scalars.count || scalars[indent] == "#" { continue }
            if indent + 1 < mark.column { return nil }  // the mapping ended
            guard indent + 1 == mark.column else { continue }
            var rest = String(String.UnicodeScalarView(scalars[indent...]))
            guard let spelling = spellings.first(where: { rest.hasPrefix($0) }) else { continue }
            rest.removeFirst(spelling.count)
            if rest.drop(while: { $0 == " " }).hasPrefix(":") { return index + 1 }
        }
        return nil
    }
}

/// Walks the composed YAML tree, building the model and failing at the first key that is wrong.
struct BuildspecReader {
    let file: String

    func fail(_ key: String, _ node: Node?, _ message: String) -> BuildspecError {
        BuildspecError(file: file, key: key, line: node?.mark?.line, message: message)
    }

    func kind(_ node: Node) -> String {
        switch node {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// The pairs of a mapping with string keys; every key must be one of `allowed` when given.
    func mapping(_ node: Node, _ key: String, allowed: [String]? = nil) throws -> [(String, Node, Node)] {
        guard case .mapping(let mapping) = node else {
            throw fail(key, node, "expected a mapping, found \(kind(node))")
        }
        var pairs: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else { throw fail(key, keyNode, "keys must be plain text") }
            let name = scalar.string
            if let allowed, !allowed.contains(name) {
                let path = key.isEmpty ? name : "\(key).\(name)"
                throw fail(path, keyNode, "unknown key; expected one of \(allowed.joined(separator: ", "))")
            }
            pairs.append((name, keyNode, value))
        }
        return pairs
    }

    func string(_ node: Node, _ key: String) throws -> String {
        guard case .scalar(let scalar) = node else {
            throw fail(key, node, "expected a single value, found \(kind(node))")
        }
        if scalar.style == .plain, scalar.string == "~" || scalar.string == "null" { return "" }
        return scalar.string
    }

    func strings(_ node: Node, _ key: String) throws -> [String] {
        if case .scalar = node { return [try string(node, key)] }
        guard case .sequence(let sequence) = node else {
            throw fail(key, node, "expected a list, found \(kind(node))")
        }
        return try sequence.map { try string($0, key) }
    }

    func commands(_ node: Node, _ key: String) throws -> [Command] {
        guard case .sequence(let sequence) = node else {
            throw fail(key, node, "expected a list of commands, found \(kind(node))")
        }
        return try sequence.map { item in
            guard case .scalar(let scalar) = item else {
                throw fail(
                    key, item, "each command must be a string, found \(kind(item)) (quote a command that holds ': ')")
            }
            return Command(text: scalar.string, line: item.mark?.line ?? 0)
        }
    }

    func yesNo(_ node: Node, _ key: String) throws -> Bool {
        switch try string(node, key).lowercased() {
        case "yes", "true": return true
        case "no", "false": return false
        case let other: throw fail(key, node, "expected yes or no, found '\(other)'")
        }
    }

    func nameValues(_ node: Node, _ key: String) throws -> [Buildspec.NameValue] {
        if case .scalar(let scalar) = node, scalar.string.isEmpty || scalar.string == "null" { return [] }
        return try mapping(node, key).map { name, _, value in
            Buildspec.NameValue(name: name, value: try string(value, "\(key).\(name)"))
        }
    }

    func read(_ root: Node) throws -> Buildspec {
        let topKeys = [
            "version", "run-as", "env", "proxy", "batch", "phases", "reports", "artifacts", "cache", "cairn",
        ]
        let pairs = try mapping(root, "", allowed: topKeys)
        guard let versionPair = pairs.first(where: { $0.0 == "version" }) else {
            throw fail("version", root, "missing; add 'version: 0.2' at the top")
        }
        let version = try string(versionPair.2, "version")
        guard version == "0.2" else {
            throw fail("version", versionPair.2, "version \(version) is not supported; use 0.2")
        }
        var spec = Buildspec(
            version: version, runAs: nil, env: .init(), phases: [], artifacts: nil, reports: [], cache: nil,
            cairn: .init()
        )
        for (name, keyNode, value) in pairs {
            switch name {
            case "run-as": spec.runAs = try string(value, name)
            case "env":
                spec.env = try environment(value)
                if spec.env.gitCredentialHelper == "yes" {
                    spec.localNotes.append("env.git-credential-helper: git uses this machine's own credential settings")
                }
            case "proxy":
                for (proxyKey, _, proxyValue) in try mapping(value, name, allowed: ["upload-artifacts", "logs"]) {
                    if try yesNo(proxyValue, "proxy.\(proxyKey)") {
                        spec.localNotes.append(
                            "proxy.\(proxyKey): has no effect here; the store is reached directly (set HTTP_PROXY for commands)"
                        )
                    }
                }
            case "batch": spec.batch = try batch(value, keyNode: keyNode)
            case "phases": spec.phases = try phases(value)
            case "reports": spec.reports = try reports(value)
            case "artifacts": spec.artifacts = try artifacts(value, key: "artifacts", identifier: "primary")
            case "cache": spec.cache = try cache(value)
            case "cairn": spec.cairn = try cairnExtension(value)
            default: break
            }
        }
        return spec
    }

    func environment(_ node: Node) throws -> Buildspec.Environment {
        var env = Buildspec.Environment()
        let allowed = [
            "shell", "variables", "parameter-store", "secrets-manager", "exported-variables", "git-credential-helper",
        ]
        for (name, _, value) in try mapping(node, "env", allowed: allowed) {
            let key = "env.\(name)"
            switch name {
            case "shell":
                let shell = try string(value, key)
                guard ["bash", "/bin/sh", "sh", "/bin/bash"].contains(shell) else {
                    throw fail(key, value, "'\(shell)' is not a Linux shell CodeBuild offers; use bash or /bin/sh")
                }
                env.shell = shell
            case "variables": env.variables = try nameValues(value, key)
            case "parameter-store": env.parameterStore = try nameValues(value, key)
            case "secrets-manager": env.secretsManager = try nameValues(value, key)
            case "exported-variables":
                env.exportedVariables = try strings(value, key)
                for name in env.exportedVariables where name.hasPrefix("AWS_") {
                    throw fail(key, value, "\(name): variables starting with AWS_ cannot be exported")
                }
            case "git-credential-helper":
                env.gitCredentialHelper = try yesNo(value, key) ? "yes" : "no"
            default: break
            }
        }
        for variable in env.variables where variable.name.hasPrefix("CODEBUILD_") {
            throw fail("env.variables.\(variable.name)", node, "the CODEBUILD_ prefix is reserved")
        }
        return env
    }

    func phases(_ node: Node) throws -> [Phase] {
        var result: [Phase] = []
        let names = PhaseName.allCases.map(\.rawValue)
        for (name, keyNode, value) in try mapping(node, "phases", allowed: names) {
            let phaseName = PhaseName(rawValue: name)!
            var allowed = ["run-as", "on-failure", "commands", "finally"]
            if phaseName == .install { allowed.append("runtime-versions") }
            let key = "phases.\(name)"
            var phase = Phase(name: phaseName)
            var hasCommands = false
            for (field, _, fieldValue) in try mapping(value, key, allowed: allowed) {
                let fieldKey = "\(key).\(field)"
                switch field {
                case "run-as": phase.runAs = try string(fieldValue, fieldKey)
                case "on-failure":
                    let text = try string(fieldValue, fieldKey)
                    guard let onFailure = OnFailure(text) else {
                        throw fail(
                            fieldKey, fieldValue,
                            "'\(text)' is not ABORT, CONTINUE, RETRY, RETRY-<count 0-100>, RETRY-<regex> or RETRY-<count>-<regex>"
                        )
                    }
                    phase.onFailure = onFailure
                case "runtime-versions": phase.runtimeVersions = try nameValues(fieldValue, fieldKey)
                case "commands":
                    phase.commands = try commands(fieldValue, fieldKey)
                    hasCommands = true
                case "finally": phase.finally = try commands(fieldValue, fieldKey)
                default: break
                }
            }
            if !hasCommands && phaseName != .install {
                throw fail(key, keyNode, "a \(name) phase needs 'commands'")
            }
            result.append(phase)
        }
        return result.sorted {
            PhaseName.allCases.firstIndex(of: $0.name)! < PhaseName.allCases.firstIndex(of: $1.name)!
        }
    }

    func artifacts(_ node: Node, key: String, identifier: String) throws -> ArtifactSpec {
        var allowed = [
            "files", "name", "discard-paths", "base-directory", "exclude-paths", "enable-symlinks", "s3-prefix",
        ]
        if identifier == "primary" { allowed.append("secondary-artifacts") }
        var spec = ArtifactSpec(identifier: identifier)
        var hasFiles = false
        for (name, _, value) in try mapping(node, key, allowed: allowed) {
            let fieldKey = "\(key).\(name)"
            switch name {
            case "files":
                spec.files = try strings(value, fieldKey)
                hasFiles = true
            case "name": spec.name = try string(value, fieldKey)
            case "discard-paths": spec.discardPaths = try yesNo(value, fieldKey)
            case "base-directory": spec.baseDirectory = try string(value, fieldKey)
            case "exclude-paths": spec.excludePaths = try strings(value, fieldKey)
            case "enable-symlinks": spec.enableSymlinks = try yesNo(value, fieldKey)
            case "s3-prefix": spec.s3Prefix = try string(value, fieldKey)
            case "secondary-artifacts":
                for (id, _, secondary) in try mapping(value, fieldKey) {
                    spec.secondary.append(try artifacts(secondary, key: "\(fieldKey).\(id)", identifier: id))
                }
            default: break
            }
        }
        if !hasFiles { throw fail(key, node, "'files' is required") }
        return spec
    }

    func reports(_ node: Node) throws -> [ReportGroup] {
        try mapping(node, "reports").map { name, _, value in
            let key = "reports.\(name)"
            var group = ReportGroup(name: name)
            var hasFiles = false
            for (field, _, fieldValue) in try mapping(
                value, key, allowed: ["files", "base-directory", "discard-paths", "file-format"]
            ) {
                let fieldKey = "\(key).\(field)"
                switch field {
                case "files":
                    group.files = try strings(fieldValue, fieldKey)
                    hasFiles = true
                case "base-directory": group.baseDirectory = try string(fieldValue, fieldKey)
                case "discard-paths": group.discardPaths = try yesNo(fieldValue, fieldKey)
                case "file-format": group.fileFormat = try string(fieldValue, fieldKey)
                default: break
                }
            }
            if !hasFiles { throw fail(key, value, "'files' is required") }
            return group
        }
    }

    func cache(_ node: Node) throws -> CacheSpec {
        var spec = CacheSpec()
        var hasPaths = false
        for (name, _, value) in try mapping(node, "cache", allowed: ["key", "fallback-keys", "action", "paths"]) {
            let key = "cache.\(name)"
            switch name {
            case "key": spec.key = try string(value, key)
            case "fallback-keys":
                spec.fallbackKeys = try strings(value, key)
                if spec.fallbackKeys.count > 5 { throw fail(key, value, "at most 5 fallback keys are allowed") }
            case "action":
                let action = try string(value, key)
                guard action == "restore" || action == "save" else {
                    throw fail(key, value, "expected restore or save, found '\(action)'")
                }
                spec.action = action
            case "paths":
                spec.paths = try strings(value, key)
                hasPaths = true
            default: break
            }
        }
        if !hasPaths { throw fail("cache", node, "'paths' is required") }
        return spec
    }

    func cairnExtension(_ node: Node) throws -> CairnExtension {
        var result = CairnExtension()
        for (name, _, value) in try mapping(node, "cairn", allowed: ["env-inputs", "phases"]) {
            switch name {
            case "env-inputs": result.envInputs = try strings(value, "cairn.env-inputs")
            case "phases":
                let names = PhaseName.allCases.map(\.rawValue)
                for (phase, _, settings) in try mapping(value, "cairn.phases", allowed: names) {
                    var phaseSettings = CairnExtension.PhaseSettings()
                    let key = "cairn.phases.\(phase)"
                    for (field, _, fieldValue) in try mapping(settings, key, allowed: ["inputs", "outputs", "cache"]) {
                        switch field {
                        case "cache": phaseSettings.cache = try yesNo(fieldValue, "\(key).cache")
                        case "inputs": phaseSettings.inputs = try strings(fieldValue, "\(key).inputs")
                        case "outputs":
                            phaseSettings.outputs = try strings(fieldValue, "\(key).outputs")
                            for output in phaseSettings.outputs where !output.hasPrefix("/") && !output.hasPrefix("~/")
                            {
                                throw fail(
                                    "\(key).outputs", fieldValue,
                                    "'\(output)' must be an absolute or ~/ path: files in the source tree are recorded already"
                                )
                            }
                        default: break
                        }
                    }
                    result.phases[PhaseName(rawValue: phase)!] = phaseSettings
                }
            default: break
            }
        }
        return result
    }
}
