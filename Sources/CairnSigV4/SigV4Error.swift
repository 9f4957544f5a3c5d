/// Why a request's signature was refused, in S3's terms: its error code, message and HTTP status.
///
/// This module knows no HTTP server, so the status is a plain number; each protocol module turns the error into its
/// own answer (`S3Error` in CairnS3, `CacheError` in CairnCache) in one place, keeping code, message and status as
/// they are here.
public struct SigV4Error: Error, Sendable, CustomStringConvertible {
    /// S3's error code, e.g. `SignatureDoesNotMatch`.
    public let code: String
    /// A sentence for a person.
    public let message: String
    /// The HTTP status S3 answers with (400 or 403).
    public let status: Int
    /// Extra elements S3 adds to the error body; for `SignatureDoesNotMatch`, the access key id, string to sign and
    /// canonical request that clients print to debug a mismatch.
    public var details: [(String, String)] = []

    /// An error with S3's `code`, a `message` for a person and the HTTP `status` to answer with.
    public init(_ code: String, _ message: String, status: Int) {
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { "\(code): \(message)" }
}

extension SigV4Error {
    static func accessDenied(_ message: String) -> SigV4Error {
        SigV4Error("AccessDenied", message, status: 403)
    }
    static func invalidArgument(_ message: String) -> SigV4Error {
        SigV4Error("InvalidArgument", message, status: 400)
    }
    static func invalidRequest(_ message: String) -> SigV4Error {
        SigV4Error("InvalidRequest", message, status: 400)
    }
}
