import CairnHTTP
import CairnSigV4
import Foundation
import HTTPTypes
import Hummingbird

/// An S3 request after addressing and authentication: which bucket and key it names, and its query items.
struct S3Request {
    let head: HTTPRequest
    let body: RequestBody
    let requestID: String
    /// The bucket, from the first path segment or the virtual host; nil for the service (`GET /`).
    let bucket: String?
    /// The key, exactly as named (decoded, slashes and all); nil when the request names only a bucket.
    let key: String?
    /// Decoded query items.
    let query: [(name: String, value: String)]
    let authentication: Authentication
    /// Sends object bytes straight from blob files; nil where the connection cannot (TLS) or in tests.
    let fileSender: (any FileBodySender)?

    var method: HTTPRequest.Method { head.method }

    func query(_ name: String) -> String? { query.first { $0.name == name }?.value }
    func has(_ name: String) -> Bool { query.contains { $0.name == name } }

    func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap(header)
    }

    /// The header's values joined by commas; nil when it is absent (checked first: most headers asked for on a
    /// read are absent, and collecting the values allocates).
    func header(_ name: HTTPField.Name) -> String? {
        guard head.headerFields.contains(name) else { return nil }
        return head.headerFields[values: name].joined(separator: ",")
    }

    /// An integer query parameter in `range`, or the default; throws S3's InvalidArgument otherwise.
    func intQuery(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = query(name) else { return value }
        guard let number = Int(text), number >= range.lowerBound else {
            throw S3Error.invalidArgument(
                "\(name) must be an integer between \(range.lowerBound) and \(range.upperBound)")
        }
        return min(number, range.upperBound)
    }
}
