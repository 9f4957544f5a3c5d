/// A precondition on the current version of a key, checked in the same transaction as a write.
public enum WriteCondition: Sendable {
    case none
    /// `If-None-Match: *`: the key must not exist.
    case keyAbsent
    /// `If-Match: <etag>`: the key must exist with this ETag (without quotes; `*` matches any).
    case etagMatches(String)
}
