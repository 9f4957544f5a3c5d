/// What the store keeps for CodeBuild's `cache` section: every file under the cache paths.
struct CacheManifest: Codable {
    static let namespace = "runner-cache"
    static let indexNamespace = "runner-cache-index"

    var key: String
    var files: [String: FileRecord]
    var createdAt: Double
}
