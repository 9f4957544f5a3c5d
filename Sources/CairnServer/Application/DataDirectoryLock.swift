#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive `flock` on `<data dir>/.lock`, held while a server (or an offline job) uses the directory.
public final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock or throws, naming the directory, when another process holds it.
    public init(dataDirectory: String) throws {
        let path = dataDirectory + "/.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SettingsError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw SettingsError("data directory \(dataDirectory) is in use by another cairn process")
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
