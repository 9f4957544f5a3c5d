/// A failure of the runner itself (not of a build command): one line that says what and where.
public struct RunnerError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
