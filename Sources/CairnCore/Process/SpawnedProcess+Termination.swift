extension SpawnedProcess {
    /// How a child process ended.
    public enum Termination: Sendable, Hashable {
        /// It exited with this status.
        case exited(Int32)
        /// A signal with this number killed it.
        case signalled(Int32)

        /// The status a shell reports for it: the exit status, or 128 + the signal's number.
        public var status: Int32 {
            switch self {
            case .exited(let status): status
            case .signalled(let signal): 128 + signal
            }
        }
    }
}
