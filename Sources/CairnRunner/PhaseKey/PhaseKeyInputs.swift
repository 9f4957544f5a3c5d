import CairnCore
import Foundation

/// Everything that determines a phase's result; its canonical encoding hashes to the ``PhaseKey``.
///
/// Kept whole in the project's history entry, so `--explain` can say which part changed since the last build.
public struct PhaseKeyInputs: Sendable, Hashable, Codable {
    /// Bumped when the encoding changes, so old entries can never be hit by mistake.
    public static let formatVersion = "cairn-phase-key-4"

    public var phase: String
    public var shell: String
    public var commands: [String]
    public var finally: [String]
    public var onFailure: String
    public var runAs: String
    public var runtimeVersions: [Buildspec.NameValue]
    /// `env: variables`, verbatim.
    public var variables: [Buildspec.NameValue]
    /// Parameter-store and secrets-manager values, as SHA-256 of the value (never the value).
    public var secrets: [Buildspec.NameValue]
    /// Outer environment variables named by `cairn: env-inputs`.
    public var environmentInputs: [Buildspec.NameValue]
    /// Where the build runs: the container image's digest, or `host` (with `CODEBUILD_BUILD_IMAGE` when set).
    public var image: String
    /// The source directory as the build's commands see it: the same on every machine where builds are isolated,
    /// so an entry holding files that embed it restores only where they are right.
    public var workspace: String?
    /// Input files: relative path → `file:<x or ->:<digest>` or `symlink:<target>`.
    public var inputFiles: [String: String]
    /// The input patterns (`cairn: phases.<name>.inputs`); empty for the whole source tree.
    public var inputPatterns: [String]
    /// Declared outputs outside the source tree.
    public var outputs: [String]
    /// The previous phase's key; empty for the first phase.
    public var previousKey: String
    /// `CODEBUILD_BUILD_SUCCEEDING` when the phase starts: `post_build` after a failed `build` is another key.
    public var buildSucceeding: Bool
    /// Exported and shell variables that earlier phases set, changed or unset (paths as tokens).
    public var sessionVariables: [Buildspec.NameValue]
    /// The working directory the phase starts in, relative to the source directory.
    public var workingDirectory: String

    /// The key: SHA-256 over a length-prefixed encoding of every field, in a fixed order.
    public var key: PhaseKey {
        var encoder = CanonicalEncoder()
        encoder.field("format", Self.formatVersion)
        encoder.field("phase", phase)
        encoder.field("shell", shell)
        encoder.list("commands", commands)
        encoder.list("finally", finally)
        encoder.field("on-failure", onFailure)
        encoder.field("run-as", runAs)
        encoder.pairs("runtime-versions", runtimeVersions.map { ($0.name, $0.value) })
        encoder.pairs("variables", variables.map { ($0.name, $0.value) })
        encoder.pairs("secrets", secrets.map { ($0.name, $0.value) })
        encoder.pairs("environment-inputs", environmentInputs.map { ($0.name, $0.value) })
        encoder.field("image", image)
        encoder.field("workspace", workspace ?? "")
        encoder.pairs("input-files", inputFiles.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        encoder.list("input-patterns", inputPatterns)
        encoder.list("outputs", outputs)
        encoder.field("previous", previousKey)
        encoder.field("succeeding", buildSucceeding ? "1" : "0")
        encoder.pairs("session", sessionVariables.map { ($0.name, $0.value) })
        encoder.field("working-directory", workingDirectory)
        return PhaseKey(hex: MessageDigest.hash(.sha256, encoder.bytes).hexString)
    }

    /// Why `self` differs from `earlier`, one reason a line (most specific first), at most `limit` reasons.
    public func differences(from earlier: PhaseKeyInputs, limit: Int = 8) -> [String] {
        var reasons: [String] = []
        if commands != earlier.commands { reasons.append("commands changed") }
        if finally != earlier.finally { reasons.append("finally commands changed") }
        if shell != earlier.shell { reasons.append("shell changed (\(earlier.shell) → \(shell))") }
        if onFailure != earlier.onFailure { reasons.append("on-failure changed") }
        if runAs != earlier.runAs { reasons.append("run-as changed") }
        if image != earlier.image { reasons.append("build image changed (\(earlier.image) → \(image))") }
        if workspace != earlier.workspace {
            reasons.append("the source is at another path (\(earlier.workspace ?? "?") → \(workspace ?? "?"))")
        }
        reasons += Self.pairDifferences("runtime version", runtimeVersions, earlier.runtimeVersions, showValues: true)
        reasons += Self.pairDifferences("variable", variables, earlier.variables, showValues: true)
        reasons += Self.pairDifferences("secret", secrets, earlier.secrets, showValues: false)
        reasons += Self.pairDifferences(
            "environment input", environmentInputs, earlier.environmentInputs, showValues: true)
        if inputPatterns != earlier.inputPatterns { reasons.append("input patterns changed") }
        if outputs != earlier.outputs { reasons.append("declared outputs changed") }
        var fileReasons: [String] = []
        for path in Set(inputFiles.keys).union(earlier.inputFiles.keys).sorted() {
            switch (earlier.inputFiles[path], inputFiles[path]) {
            case (nil, _?): fileReasons.append("file \(path) added")
            case (_?, nil): fileReasons.append("file \(path) removed")
            case (let old?, let new?) where old != new: fileReasons.append("file \(path) changed")
            default: break
            }
        }
        reasons += fileReasons
        reasons += Self.pairDifferences(
            "variable set by an earlier phase:", sessionVariables, earlier.sessionVariables, showValues: true)
        if workingDirectory != earlier.workingDirectory {
            reasons.append("starts in another directory (\(earlier.workingDirectory) → \(workingDirectory))")
        }
        if buildSucceeding != earlier.buildSucceeding { reasons.append("an earlier phase failed in one of the builds") }
        if reasons.isEmpty && previousKey != earlier.previousKey { reasons.append("an earlier phase's key changed") }
        if reasons.count > limit { reasons = Array(reasons.prefix(limit)) + ["… and \(reasons.count - limit) more"] }
        return reasons
    }

    private static func pairDifferences(
        _ noun: String, _ now: [Buildspec.NameValue], _ before: [Buildspec.NameValue], showValues: Bool
    ) -> [String] {
        let old = Dictionary(before.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        let new = Dictionary(now.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        var reasons: [String] = []
        for name in Set(old.keys).union(new.keys).sorted() where old[name] != new[name] {
            switch (old[name], new[name]) {
            case (nil, _): reasons.append("\(noun) \(name) added")
            case (_, nil): reasons.append("\(noun) \(name) removed")
            case (let a?, let b?):
                reasons.append(showValues ? "\(noun) \(name) changed ('\(a)' → '\(b)')" : "\(noun) \(name) changed")
            }
        }
        return reasons
    }
}
