/// The keys saved for one set of cache paths, newest last, so `fallback-keys` can match by prefix.
struct CacheIndex: Codable {
    struct Item: Codable {
        var key: String
        var createdAt: Double
    }
    var items: [Item] = []
}
