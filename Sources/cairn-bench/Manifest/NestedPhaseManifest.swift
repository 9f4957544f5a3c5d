import CairnCore
import CairnRunner

/// A ``PhaseManifest`` encoded as runners before format 2 stored it: format 1, the changed files as an object of
/// objects keyed by path, so the bench can time what reading an entry stored by an earlier runner costs.
struct NestedPhaseManifest: Encodable {
    enum CodingKeys: String, CodingKey {
        case formatVersion, phase, key, changes, setVariables, unsetVariables, shellVariables, unsetShellVariables
        case workingDirectory, log, durationSeconds
    }

    var manifest: PhaseManifest

    init(_ manifest: PhaseManifest) {
        self.manifest = manifest
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(1, forKey: .formatVersion)
        try container.encode(manifest.phase, forKey: .phase)
        try container.encode(manifest.key, forKey: .key)
        try container.encode(manifest.changes, forKey: .changes)  // WorkspaceChanges' own, nested, form
        try container.encode(manifest.setVariables, forKey: .setVariables)
        try container.encode(manifest.unsetVariables, forKey: .unsetVariables)
        try container.encodeIfPresent(manifest.shellVariables, forKey: .shellVariables)
        try container.encodeIfPresent(manifest.unsetShellVariables, forKey: .unsetShellVariables)
        try container.encode(manifest.workingDirectory, forKey: .workingDirectory)
        try container.encode(manifest.log, forKey: .log)
        try container.encode(manifest.durationSeconds, forKey: .durationSeconds)
    }
}
