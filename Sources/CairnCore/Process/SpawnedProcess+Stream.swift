extension SpawnedProcess {
    /// Where one of a child's standard streams goes.
    public enum Stream: Sendable {
        /// The parent's own stream.
        case inherit
        /// `/dev/null`: nothing to read, output discarded.
        case null
        /// An open descriptor of the parent (a file, one end of a pipe). The child gets a copy; the parent still
        /// owns it, and closes its end of a pipe after the spawn so that the other end sees an end of file.
        case descriptor(Int32)
    }
}
