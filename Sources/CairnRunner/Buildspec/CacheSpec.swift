/// CodeBuild's `cache` section.
public struct CacheSpec: Sendable, Hashable {
    /// `key`, shell-expanded before use.
    public var key: String?
    /// `fallback-keys`, matched by prefix.
    public var fallbackKeys: [String] = []
    /// `action`: `restore`, `save`, or nil for both.
    public var action: String?
    /// `paths`.
    public var paths: [String] = []
}
