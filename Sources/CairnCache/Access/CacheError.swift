import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An error answer of a build-cache route: an HTTP status and a small JSON body `{"error": {"code", "message"}}`.
public struct CacheError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Extra JSON fields inside `error` (e.g. `missing` for MissingBlobs).
    public var extra: [String: [String]] = [:]
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        var error: [String: Any] = ["code": code, "message": message]
        for (key, value) in extra { error[key] = value }
        let data = try JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys])
        if request.method == .head { return Response(status: status, headers: fields) }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func unauthorized(_ message: String) -> CacheError {
        var error = CacheError(.unauthorized, "Unauthorized", message)
        error.headers[.wwwAuthenticate] = "Basic realm=\"cairn\""
        return error
    }

    static func forbidden(_ message: String) -> CacheError { CacheError(.forbidden, "Forbidden", message) }
    static func notFound(_ what: String) -> CacheError {
        CacheError(.notFound, "NotFound", "\(what) is not in the cache")
    }
    static func badRequest(_ code: String, _ message: String) -> CacheError { CacheError(.badRequest, code, message) }

    /// `503 Service Unavailable` with `Retry-After`, for a backend that cannot serve now: nothing was stored, and the
    /// same request succeeds once the backend is back. Every cache client treats a 5xx as "not cached this time".
    public static func unavailable(_ error: StorageUnavailable) -> CacheError {
        var answer = CacheError(.serviceUnavailable, "ServiceUnavailable", "\(error.description); nothing was stored")
        answer.headers[.retryAfter] = String(StorageUnavailable.retryAfterSeconds)
        return answer
    }
}
