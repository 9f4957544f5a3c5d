/// A request whose signature checked out.
public struct Authentication: Sendable {
    /// Who signed it.
    public let accessKeyID: String
    /// What the body must satisfy.
    public let payload: PayloadExpectation
}
