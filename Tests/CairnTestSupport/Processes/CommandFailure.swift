/// A command a test ran exited with a failure status.
public struct CommandFailure: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}
