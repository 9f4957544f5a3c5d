import CairnSigV4
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
    /// Signs requests for S3 systems; nil for nginx. Payloads are sent as `UNSIGNED-PAYLOAD`, as the SDKs do over
    /// TLS and as presigned URLs always are, so the client spends no time hashing bodies: what is measured is the
    /// server.
    let signer: SigV4Signer?

    /// `host:port`, exactly as sent in the Host header, which S3 requests sign.
    var host: String { String(baseURL.dropFirst("http://".count)) }

    /// The headers (Host excluded: the HTTP client sends it) that authenticate `method path`; none for nginx.
    func headers(method: String, path: String) -> [(name: String, value: String)] {
        signer?.headers(method: method, host: host, path: path) ?? []
    }

    /// The URL and headers of a request on one object.
    func request(method: String, key: String) -> (url: String, headers: [(name: String, value: String)]) {
        let path = "\(prefix)/\(key)"
        return ("\(baseURL)\(path)", headers(method: method, path: path))
    }

    /// A URL that needs no headers (presigned for S3 systems), for curl.
    func plainURL(method: String, key: String) -> String {
        let path = "\(prefix)/\(key)"
        return baseURL + (signer?.presignedPath(method: method, host: host, path: path) ?? path)
    }

    /// The path and query of a URL that needs no headers for each of `paths` (presigned with one timestamp for S3
    /// systems), for wrk.
    func plainPaths(method: String, paths: [String]) -> [String] {
        signer?.presignedPaths(method: method, host: host, paths: paths) ?? paths
    }
}
