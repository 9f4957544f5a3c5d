/// A running shell that executes a build's commands one after another and reports what they left behind.
///
/// One build task drives a session, one call at a time.
protocol CommandSession: AnyObject, Sendable {
    /// Runs one command; `output` receives its standard output and error as they arrive. Returns the exit status.
    func run(_ command: String, output: @escaping @Sendable ([UInt8]) -> Void) async throws -> Int32

    /// The session's exported environment, shell variables and working directory now.
    func state() async throws -> ShellState

    /// Sets and unsets exported variables, replays shell variable assignments and changes directory, as a
    /// restored phase would have.
    func apply(set: [String: String], unset: [String], workingDirectory: String?, assignments: [String]) async throws

    /// Ends the session.
    func close()
}
