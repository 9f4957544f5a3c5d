/// A failure of the runner itself (not of a build command): one line that says what and where.
public struct RunnerError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// What went wrong, for the callers that act on it: an unreachable store only turns the cache off.
    public var kind: Kind

    public init(_ description: String, kind: Kind = .other) {
        self.description = description
        self.kind = kind
    }

    /// The kinds of runner failure a caller may treat apart; more may be added.
    public struct Kind: Hashable, Sendable {
        private enum Value: Hashable, Sendable {
            case other
            case storeUnreachable
            case wrongCredentials
        }

        private let value: Value

        /// Any failure not named below.
        public static let other = Kind(value: .other)
        /// No answer from the store's server: refused, timed out, no such host.
        public static let storeUnreachable = Kind(value: .storeUnreachable)
        /// The store's server answered, and does not accept the credentials.
        public static let wrongCredentials = Kind(value: .wrongCredentials)
    }
}
