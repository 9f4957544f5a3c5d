/// What the store keeps for CodeBuild's `cache` section: every file under the cache paths.
struct CacheManifest {
    static let namespace = "runner-cache"
    static let indexNamespace = "runner-cache-index"
    /// The format this runner writes: 2 stores each file as a ``FileRow`` array; 1, with no `formatVersion` key
    /// (still read, so caches saved by earlier runners still restore), stored them as an object keyed by path.
    static let formatVersion = 2

    var key: String
    var files: [String: FileRecord]
    var createdAt: Double
}
