/// A failure of the blob store, with the file and the system error behind it.
public struct BlobStoreError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, in terms a caller can act on.
    public enum Code: Sendable, Equatable {
        /// The file system has no space left (ENOSPC or EDQUOT).
        case diskFull
        /// A blob named by metadata is not on disk.
        case missingBlob
        /// Any other I/O failure.
        case io
    }

    /// The kind of failure.
    public let code: Code
    /// A sentence naming the operation and the file.
    public let message: String
    /// The `errno` value, when a system call failed.
    public let errno: Int32?

    public init(code: Code, message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    static func system(_ operation: String, path: String, errno value: Int32) -> BlobStoreError {
        let full = value == ENOSPC || value == EDQUOT
        return BlobStoreError(
            code: full ? .diskFull : .io,
            message: "\(operation) \(path): \(String(cString: strerror(value)))",
            errno: value
        )
    }

    public var description: String { message }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
