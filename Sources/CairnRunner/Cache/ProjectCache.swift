import CairnCore
import Foundation

/// CodeBuild's `cache` section: every file under its paths, restored before the first phase and saved after the
/// last, under a key (or one mutable slot per project without one).
struct ProjectCache: Sendable {
    let spec: CacheSpec
    /// The project the keyless cache belongs to.
    let projectID: String
    let store: any PhaseStore
    let console: BuildConsole
    let paths: PortablePaths
    let environment: any BuildEnvironment

    /// Identifies the cache paths: the same key with other paths is another cache, as in CodeBuild.
    var version: String {
        String(MessageDigest.sha256Hex(spec.paths.joined(separator: "\n")).prefix(16))
    }

    /// Without a key, CodeBuild keeps one mutable cache per project.
    func entryKey(userKey: String?) -> String {
        version + ":" + (userKey ?? "project:" + projectID)
    }

    func expandedKey(session: any CommandSession) async throws -> String? {
        guard let key = spec.key else { return nil }
        return try await session.expand(key)
    }

    /// The absolute directories to scan for the cache paths, and the globs (relative or absolute) to keep.
    func roots() throws -> (roots: [String], globs: [Glob]) {
        var roots: [String] = []
        var globs: [Glob] = []
        for raw in spec.paths {
            let pattern = paths.expandHome(raw)
            globs.append(try Glob(pattern))
            let components = pattern.split(separator: "/", omittingEmptySubsequences: false)
            let fixed = components.prefix { !$0.contains("*") && !$0.contains("?") }.joined(separator: "/")
            if pattern.hasPrefix("/") { roots.append(fixed.isEmpty ? "/" : fixed) }
        }
        return (roots, globs)
    }

    /// Restores the newest matching cache; a failure is a warning, never a failed build.
    func restore(session: any CommandSession) async {
        guard spec.action != "save" else { return }
        do {
            let userKey = try await expandedKey(session: session)
            var candidates = [entryKey(userKey: userKey)]
            if userKey != nil, !spec.fallbackKeys.isEmpty {
                let index = try await loadIndex()
                for fallback in spec.fallbackKeys {
                    let expanded = try await session.expand(fallback)
                    let matches = index.items.filter { $0.key.hasPrefix(expanded) }.sorted {
                        $0.createdAt > $1.createdAt
                    }
                    candidates += matches.map { entryKey(userKey: $0.key) }
                }
            }
            for candidate in candidates {
                guard let entry = try await store.entry(namespace: CacheManifest.namespace, key: candidate) else {
                    continue
                }
                let manifest = try JSONDecoder().decode(
                    CacheManifest.self, from: Data(try await store.read(entry.value.digest)))
                let current = try await environment.snapshot(extraRoots: try roots().roots)
                try await environment.apply(
                    WorkspaceChanges(changed: manifest.files, deleted: []), current: current, from: store, paths: paths
                )
                let exact = candidate == candidates.first
                console.line(
                    "[cairn] cache restored: \(manifest.files.count) paths from key '\(manifest.key)'"
                        + (exact ? "" : " (fallback)")
                )
                return
            }
            console.line("[cairn] cache: nothing stored for key '\(userKey ?? "(project cache)")'")
        } catch {
            console.notice("[cairn] warning: cache not restored: \(error)")
        }
    }

    /// Saves the files under the cache paths; a keyed cache is never replaced. A failure is a warning.
    func save(session: any CommandSession) async {
        guard spec.action != "restore" else { return }
        do {
            let userKey = try await expandedKey(session: session)
            let slot = entryKey(userKey: userKey)
            if userKey != nil, try await store.entry(namespace: CacheManifest.namespace, key: slot) != nil {
                console.line("[cairn] cache: key '\(userKey!)' is stored already (keyed caches never change)")
                return
            }
            let (roots, globs) = try self.roots()
            let snapshot = try await environment.snapshot(extraRoots: roots)
            let files = snapshot.entries.filter { path, _ in globs.contains { $0.matches(path) } }
            let uploads = files.compactMap { path, record -> (path: String, digest: BlobDigest, size: Int64)? in
                guard record.kind == .file, let digest = record.digest else { return nil }
                return (environment.hostPath(paths.absolute(path)), digest, record.size)
            }
            let sent = try await store.uploadMissing(uploads)
            let manifest = CacheManifest(
                key: userKey ?? "(project cache)",
                files: paths.portable(WorkspaceChanges(changed: files, deleted: [])).changed,
                createdAt: Date().timeIntervalSince1970
            )
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let value = try await store.upload(bytes: Array(try encoder.encode(manifest)))
            try await store.putEntry(
                ActionEntry(
                    namespace: CacheManifest.namespace, key: slot, value: value,
                    references: Array(Set(uploads.map(\.digest))).sorted(),
                    totalSize: value.size + uploads.reduce(0) { $0 + $1.size }
                )
            )
            if let userKey {
                var index = try await loadIndex()
                index.items.removeAll { $0.key == userKey }
                index.items.append(.init(key: userKey, createdAt: manifest.createdAt))
                let indexValue = try await store.upload(bytes: Array(try encoder.encode(index)))
                try await store.putEntry(
                    ActionEntry(namespace: CacheManifest.indexNamespace, key: version, value: indexValue)
                )
            }
            console.line("[cairn] cache saved: \(files.count) paths, \(sent.count) new blobs (\(sent.bytes) bytes)")
        } catch {
            console.notice("[cairn] warning: cache not saved: \(error)")
        }
    }

    /// The keys saved for these cache paths, newest last.
    func loadIndex() async throws -> CacheIndex {
        guard let entry = try await store.entry(namespace: CacheManifest.indexNamespace, key: version) else {
            return CacheIndex()
        }
        return try JSONDecoder().decode(CacheIndex.self, from: Data(try await store.read(entry.value.digest)))
    }
}
