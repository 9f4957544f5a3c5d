import CairnS3
import Foundation

/// Signs S3 requests with Signature Version 4 the way the AWS SDKs do, for path-style URLs on one endpoint.
///
/// Payloads are sent as `UNSIGNED-PAYLOAD`, as the SDKs do over TLS and as presigned URLs always are, so
/// the client spends no time hashing bodies: what is measured is the server.
struct RequestSigner: Sendable {
    let accessKeyID: String
    let secretAccessKey: String
    let region: String
    /// `host:port`, exactly as sent in the Host header.
    let host: String

    private static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// The headers (Host excluded: the HTTP client sends it) that authenticate `method path`.
    func headers(method: String, path: String, now: Date = Date()) -> [(name: String, value: String)] {
        let (amzDate, day) = Self.timestamps(now)
        let signed: [(name: String, value: String)] = [
            ("host", host), ("x-amz-content-sha256", Self.unsignedPayload), ("x-amz-date", amzDate),
        ]
        let scope = "\(day)/\(region)/s3/aws4_request"
        let canonical = SigV4.canonicalRequest(
            method: method, canonicalURI: SigV4.uriEncode(path, keepSlash: true), canonicalQuery: "",
            headers: signed, payloadHash: Self.unsignedPayload
        )
        let key = SigV4.signingKey(secret: secretAccessKey, date: day, region: region, service: "s3")
        let signature = SigV4.signature(
            of: SigV4.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical), key: key
        )
        let authorization =
            "\(SigV4.algorithm) Credential=\(accessKeyID)/\(scope), SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=\(signature)"
        return [
            ("x-amz-content-sha256", Self.unsignedPayload), ("x-amz-date", amzDate), ("authorization", authorization),
        ]
    }

    /// A presigned URL for `method path`, valid for `expires` seconds, as `aws s3 presign` makes them.
    func presignedURL(method: String, path: String, expires: Int = 3600, now: Date = Date()) -> String {
        "http://\(host)" + presignedPaths(method: method, paths: [path], expires: expires, now: now)[0]
    }

    /// The path and query of a presigned URL for each of `paths`, signed with one timestamp.
    func presignedPaths(method: String, paths: [String], expires: Int = 3600, now: Date = Date()) -> [String] {
        let (amzDate, day) = Self.timestamps(now)
        let scope = "\(day)/\(region)/s3/aws4_request"
        let key = SigV4.signingKey(secret: secretAccessKey, date: day, region: region, service: "s3")
        let query: [(name: String, value: String)] = [
            ("X-Amz-Algorithm", SigV4.algorithm), ("X-Amz-Credential", "\(accessKeyID)/\(scope)"),
            ("X-Amz-Date", amzDate), ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", "host"),
        ]
        let canonicalQuery = SigV4.canonicalQuery(query)
        return paths.map { path in
            let encodedPath = SigV4.uriEncode(path, keepSlash: true)
            let canonical = SigV4.canonicalRequest(
                method: method, canonicalURI: encodedPath, canonicalQuery: canonicalQuery,
                headers: [("host", host)], payloadHash: Self.unsignedPayload
            )
            let signature = SigV4.signature(
                of: SigV4.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical), key: key
            )
            return "\(encodedPath)?\(canonicalQuery)&X-Amz-Signature=\(signature)"
        }
    }

    private static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        return (day + String(format: "T%02d%02d%02dZ", c.hour!, c.minute!, c.second!), day)
    }
}
