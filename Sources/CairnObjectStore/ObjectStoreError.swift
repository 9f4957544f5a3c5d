/// An object store that refused or failed a request, or a configuration that cannot work, with what to do.
public struct ObjectStoreError: Error, CustomStringConvertible, Sendable {
    /// One sentence naming the request, the answer and, where there is one, the fix.
    public let description: String
    /// The HTTP status the store answered, when it answered.
    public let status: Int?

    public init(_ description: String, status: Int? = nil) {
        self.description = description
        self.status = status
    }
}
