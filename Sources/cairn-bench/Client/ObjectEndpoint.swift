import Foundation

/// Where a system under test keeps objects, and how a client addresses one: an S3 bucket with signed
/// requests (Cairn, moto) or a plain WebDAV directory (nginx).
struct ObjectEndpoint: Sendable {
    /// The system's name in the report: `cairn`, `nginx`, `moto`.
    let system: String
    /// `http://127.0.0.1:PORT`.
    let baseURL: String
    /// The path prefix objects live under: `/bucket` or the WebDAV directory.
    let prefix: String
    /// Signs requests for S3 systems; nil for nginx.
    let signer: RequestSigner?

    /// The URL and headers of a request on one object.
    func request(method: String, key: String) -> (url: String, headers: [(name: String, value: String)]) {
        let path = "\(prefix)/\(key)"
        return ("\(baseURL)\(path)", signer?.headers(method: method, path: path) ?? [])
    }

    /// A URL that needs no headers (presigned for S3 systems), for curl.
    func plainURL(method: String, key: String) -> String {
        let path = "\(prefix)/\(key)"
        return signer?.presignedURL(method: method, path: path) ?? "\(baseURL)\(path)"
    }
}
