/// A PostgreSQL metadata store that cannot be used as configured (a bad URL, a schema from a newer version), with
/// what to do about it.
public struct PostgresMetadataError: Error, CustomStringConvertible, Sendable {
    /// One sentence naming the problem and the fix.
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
