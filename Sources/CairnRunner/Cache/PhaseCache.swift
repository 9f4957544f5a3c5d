import CairnCore
import Foundation

/// The phase cache over a ``PhaseStore``: a phase's key inputs, and its `runner/<key>` entry looked up, stored and
/// restored.
///
/// Paths and values go into the store portable (``PortablePaths``) and come back out for this build, so an entry
/// written on one machine restores on another.
struct PhaseCache: Sendable {
    let store: any PhaseStore
    let console: BuildConsole
    let paths: PortablePaths
    let environment: any BuildEnvironment
    let buildspec: Buildspec
    /// The shell as the buildspec names it (`/bin/sh` by default).
    let shellName: String
    /// Parameter-store and secrets-manager values (hashed before they reach a key).
    let secretValues: [Buildspec.NameValue]
    /// The environment the build started from (`cairn: env-inputs`, `CODEBUILD_BUILD_IMAGE`).
    let outerEnvironment: [String: String]
    /// Files of the runner's own in the source tree (the buildspec, the report): never phase inputs.
    let runnerFiles: Set<String>

    /// The stored manifest for `key`, or nil on a miss; an unreadable entry, or a store that stopped answering, is
    /// a miss, with a warning.
    func lookUp(_ key: PhaseKey) async throws -> PhaseManifest? {
        let found: ActionEntry?
        do {
            found = try await store.entry(namespace: PhaseManifest.namespace, key: key.hex)
        } catch let error as RunnerError where error.kind == .storeUnreachable {
            console.notice("[cairn] warning: \(error); running the phase")
            return nil
        }
        guard let entry = found else { return nil }
        do {
            let manifest = try PhaseManifest.decode(from: try await store.read(entry.value.digest))
            return manifest.key == key.hex ? manifest : nil
        } catch {
            console.notice("[cairn] warning: ignoring an unreadable entry for key \(key.hex.prefix(12)): \(error)")
            return nil
        }
    }

    /// The output a stored phase printed when it ran.
    func log(of manifest: PhaseManifest) async throws -> [UInt8] {
        try await store.read(manifest.log.digest)
    }

    /// Stores a phase that succeeded: the blobs the store lacks, the log and the manifest, then the entry.
    func record(
        key: PhaseKey, phase: Phase, changes: WorkspaceChanges, before: ShellState, after: ShellState, log: [UInt8],
        duration: Double
    ) async throws {
        var files: [(path: String, digest: BlobDigest, size: Int64)] = []
        for (path, record) in changes.changed where record.kind == .file {
            guard let digest = record.digest else { continue }
            files.append((environment.hostPath(paths.absolute(path)), digest, record.size))
        }
        let uploaded = try await store.uploadMissing(files)
        let logSegment = try await store.upload(bytes: log)
        var set: [String: String] = [:]
        for (name, value) in after.environment where before.environment[name] != value {
            set[name] = paths.tokenize(value)
        }
        let unset = before.environment.keys.filter { after.environment[$0] == nil }.sorted()
        var manifest = PhaseManifest(
            phase: phase.name.rawValue, key: key.hex, changes: paths.portable(changes), setVariables: set,
            unsetVariables: unset,
            workingDirectory: paths.relativeDirectory(after.workingDirectory), log: logSegment,
            durationSeconds: duration
        )
        manifest.shellVariables = after.variables.filter { before.variables[$0.key] != $0.value }.mapValues(
            paths.tokenize)
        manifest.unsetShellVariables = before.variables.keys.filter {
            after.variables[$0] == nil && after.environment[$0] == nil
        }.sorted()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let value = try await store.upload(bytes: Array(try encoder.encode(manifest)))
        let total = value.size + logSegment.size + files.reduce(0) { $0 + $1.size }
        try await store.putEntry(
            ActionEntry(
                namespace: PhaseManifest.namespace, key: key.hex, value: value, references: manifest.references,
                attributes: ["phase": phase.name.rawValue, "duration": String(format: "%.3f", duration)],
                totalSize: total
            )
        )
        console.line(
            "[cairn] stored \(phase.name.phaseType): \(changes.changed.count) changed, \(changes.deleted.count) deleted, "
                + "\(uploaded.count) new blobs (\(uploaded.bytes) bytes)"
        )
    }

    /// Applies a stored phase to the files and the session; returns the snapshot a real run would have left.
    func restore(_ manifest: PhaseManifest, session: any CommandSession, snapshot: WorkspaceSnapshot) async throws
        -> WorkspaceSnapshot
    {
        var result = snapshot
        try await environment.apply(manifest.changes, current: snapshot, from: store, paths: paths)
        for path in manifest.changes.deleted {
            let local = paths.local(path)
            result.entries[local] = nil
            // Outside the workspace a snapshot may list only differences to a base (a container's image).
            if local.hasPrefix("/") { result.absent.insert(local) }
        }
        for (path, record) in manifest.changes.changed {
            result.entries[paths.local(path)] = record
            result.absent.remove(paths.local(path))
        }
        let set = manifest.setVariables.mapValues(paths.detokenize)
        let directory =
            manifest.workingDirectory == "." ? paths.sourceDirectory : paths.absolute(manifest.workingDirectory)
        let assignments = (manifest.shellVariables ?? [:]).sorted { $0.key < $1.key }.map {
            paths.detokenize($0.value)
        }
        try await session.apply(
            set: set, unset: manifest.unsetVariables + (manifest.unsetShellVariables ?? []),
            workingDirectory: directory,
            assignments: assignments
        )
        return result
    }
}
