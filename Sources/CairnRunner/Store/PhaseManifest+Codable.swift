import CairnCore

extension PhaseManifest {
    enum CodingKeys: String, CodingKey {
        case formatVersion, phase, key, changes, setVariables, unsetVariables, shellVariables, unsetShellVariables
        case workingDirectory, log, durationSeconds
    }

    /// `changes` in format 2: the changed files as rows, not an object keyed by path.
    private struct FlatChanges: Codable {
        var changed: [FileRow]
        var deleted: [String]
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let format = try container.decode(Int.self, forKey: .formatVersion)
        switch format {
        case 1:
            changes = try container.decode(WorkspaceChanges.self, forKey: .changes)
        case 2:
            let flat = try container.decode(FlatChanges.self, forKey: .changes)
            changes = WorkspaceChanges(changed: FileRow.files(flat.changed), deleted: flat.deleted)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .formatVersion, in: container,
                debugDescription: "manifest format \(format) is not one this runner reads (1 or 2)")
        }
        phase = try container.decode(String.self, forKey: .phase)
        key = try container.decode(String.self, forKey: .key)
        setVariables = try container.decode([String: String].self, forKey: .setVariables)
        unsetVariables = try container.decode([String].self, forKey: .unsetVariables)
        shellVariables = try container.decodeIfPresent([String: String].self, forKey: .shellVariables)
        unsetShellVariables = try container.decodeIfPresent([String].self, forKey: .unsetShellVariables)
        workingDirectory = try container.decode(String.self, forKey: .workingDirectory)
        log = try container.decode(BlobSegment.self, forKey: .log)
        durationSeconds = try container.decode(Double.self, forKey: .durationSeconds)
    }

    /// Always writes the current format, ``formatVersion``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.formatVersion, forKey: .formatVersion)
        try container.encode(phase, forKey: .phase)
        try container.encode(key, forKey: .key)
        try container.encode(
            FlatChanges(changed: FileRow.rows(changes.changed), deleted: changes.deleted), forKey: .changes)
        try container.encode(setVariables, forKey: .setVariables)
        try container.encode(unsetVariables, forKey: .unsetVariables)
        try container.encodeIfPresent(shellVariables, forKey: .shellVariables)
        try container.encodeIfPresent(unsetShellVariables, forKey: .unsetShellVariables)
        try container.encode(workingDirectory, forKey: .workingDirectory)
        try container.encode(log, forKey: .log)
        try container.encode(durationSeconds, forKey: .durationSeconds)
    }
}
