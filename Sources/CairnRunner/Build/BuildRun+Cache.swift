import CairnCore
import Foundation

extension BuildRun {
    /// Identifies the cache paths: the same key with other paths is another cache, as in CodeBuild.
    func cacheVersion(_ cache: CacheSpec) -> String {
        String(MessageDigest.sha256Hex(cache.paths.joined(separator: "\n")).prefix(16))
    }

    /// Without a key, CodeBuild keeps one mutable cache per project.
    func cacheEntryKey(_ cache: CacheSpec, userKey: String?) -> String {
        cacheVersion(cache) + ":" + (userKey ?? "project:" + projectID)
    }

    func expandedCacheKey(_ cache: CacheSpec, shell: ShellSession) async throws -> String? {
        guard let key = cache.key else { return nil }
        return try await evaluate(key, shell: shell)
    }

    /// The absolute directories to scan for the cache paths, and the globs (relative or absolute) to keep.
    func cacheRoots(_ cache: CacheSpec) throws -> (roots: [String], globs: [Glob]) {
        var roots: [String] = []
        var globs: [Glob] = []
        for raw in cache.paths {
            let pattern = expandHome(raw)
            globs.append(try Glob(pattern))
            let components = pattern.split(separator: "/", omittingEmptySubsequences: false)
            let fixed = components.prefix { !$0.contains("*") && !$0.contains("?") }.joined(separator: "/")
            if pattern.hasPrefix("/") { roots.append(fixed.isEmpty ? "/" : fixed) }
        }
        return (roots, globs)
    }

    func restoreCache(_ cache: CacheSpec, shell: ShellSession) async {
        guard cache.action != "save" else { return }
        do {
            let userKey = try await expandedCacheKey(cache, shell: shell)
            var candidates = [cacheEntryKey(cache, userKey: userKey)]
            if userKey != nil, !cache.fallbackKeys.isEmpty {
                let index = try await loadCacheIndex(cache)
                for fallback in cache.fallbackKeys {
                    let expanded = try await evaluate(fallback, shell: shell)
                    let matches = index.items.filter { $0.key.hasPrefix(expanded) }.sorted {
                        $0.createdAt > $1.createdAt
                    }
                    candidates += matches.map { cacheEntryKey(cache, userKey: $0.key) }
                }
            }
            for candidate in candidates {
                guard let entry = try await store.entry(namespace: CacheManifest.namespace, key: candidate) else {
                    continue
                }
                let manifest = try JSONValueDecoder().decode(
                    CacheManifest.self, from: try await store.read(entry.value.digest))
                let current = try scanner.snapshot(extraRoots: try cacheRoots(cache).roots)
                try await WorkspaceRestorer(store: store).apply(
                    WorkspaceChanges(changed: manifest.files, deleted: []), current: current, absolute: absolute
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
            console.line("[cairn] warning: cache not restored: \(error)")
        }
    }

    func saveCache(_ cache: CacheSpec, shell: ShellSession) async {
        guard cache.action != "restore" else { return }
        do {
            let userKey = try await expandedCacheKey(cache, shell: shell)
            let entryKey = cacheEntryKey(cache, userKey: userKey)
            if userKey != nil, try await store.entry(namespace: CacheManifest.namespace, key: entryKey) != nil {
                console.line("[cairn] cache: key '\(userKey!)' is stored already (keyed caches never change)")
                return
            }
            let (roots, globs) = try cacheRoots(cache)
            let snapshot = try scanner.snapshot(extraRoots: roots)
            let files = snapshot.entries.filter { path, _ in globs.contains { $0.matches(path) } }
            let uploads = files.compactMap { path, record -> (path: String, digest: BlobDigest, size: Int64)? in
                guard record.kind == .file, let digest = record.digest else { return nil }
                return (absolute(path), digest, record.size)
            }
            let sent = try await store.uploadMissing(uploads)
            let manifest = CacheManifest(
                key: userKey ?? "(project cache)",
                files: portable(WorkspaceChanges(changed: files, deleted: [])).changed,
                createdAt: Date().timeIntervalSince1970
            )
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let value = try await store.upload(bytes: Array(try encoder.encode(manifest)))
            try await store.putEntry(
                ActionEntry(
                    namespace: CacheManifest.namespace, key: entryKey, value: value,
                    references: Array(Set(uploads.map(\.digest))).sorted(),
                    totalSize: value.size + uploads.reduce(0) { $0 + $1.size }
                )
            )
            if let userKey {
                var index = try await loadCacheIndex(cache)
                index.items.removeAll { $0.key == userKey }
                index.items.append(.init(key: userKey, createdAt: manifest.createdAt))
                let indexValue = try await store.upload(bytes: Array(try encoder.encode(index)))
                try await store.putEntry(
                    ActionEntry(namespace: CacheManifest.indexNamespace, key: cacheVersion(cache), value: indexValue)
                )
            }
            console.line("[cairn] cache saved: \(files.count) paths, \(sent.count) new blobs (\(sent.bytes) bytes)")
        } catch {
            console.line("[cairn] warning: cache not saved: \(error)")
        }
    }

    func loadCacheIndex(_ cache: CacheSpec) async throws -> CacheIndex {
        guard let entry = try await store.entry(namespace: CacheManifest.indexNamespace, key: cacheVersion(cache))
        else {
            return CacheIndex()
        }
        return try JSONValueDecoder().decode(CacheIndex.self, from: try await store.read(entry.value.digest))
    }
}
