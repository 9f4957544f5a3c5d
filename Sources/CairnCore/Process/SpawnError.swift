#if canImport(Glibc)
    import Glibc
#endif

/// A child process that could not start: which program, and why.
public struct SpawnError: Error, CustomStringConvertible {
    /// The path of the program.
    public let executable: String
    /// The `errno` value `posix_spawn` returned.
    public let code: Int32

    public var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
}
