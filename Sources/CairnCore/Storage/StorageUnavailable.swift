/// A backend the store depends on (the metadata database or the object store) that cannot serve now: it is
/// unreachable, restarting or answering with a server error. Nothing of the request was committed, and the same
/// request can be retried once the backend is back, on this node or another.
///
/// The S3 front end answers it with `503 SlowDown` and the cache protocols with `503`, both with `Retry-After`;
/// neither has to know which engine failed.
public struct StorageUnavailable: Error, CustomStringConvertible, Sendable {
    /// Which backend failed.
    public enum Backend: String, Sendable {
        /// The metadata database (PostgreSQL).
        case metadata
        /// The object store that holds the blobs.
        case blobs
    }

    /// Which backend failed.
    public let backend: Backend
    /// One sentence naming the operation and the backend's answer, for the log and the error body.
    public let message: String

    public init(_ backend: Backend, _ message: String) {
        self.backend = backend
        self.message = message
    }

    public var description: String {
        switch backend {
        case .metadata: "the metadata database cannot serve now (\(message)); retry when it is back"
        case .blobs: "the object store cannot serve now (\(message)); retry when it is back"
        }
    }

    /// The seconds a client is told to wait before it retries (`Retry-After`).
    public static var retryAfterSeconds: Int { 1 }
}
