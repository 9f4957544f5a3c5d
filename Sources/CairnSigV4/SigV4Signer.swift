import CairnCore
import Foundation

/// Signs requests with AWS Signature Version 4 as the AWS SDKs do, for path-style URLs, with `UNSIGNED-PAYLOAD`.
///
/// Two forms: headers for a request (``headers(method:host:path:query:date:)``) and presigned URLs, which need no
/// headers (``presignedPaths(method:host:paths:query:expires:date:)``). Payloads are never hashed, as the SDKs do
/// over TLS and as presigned URLs always are, so a body can stream from a file without being read twice. The
/// canonical request is built by the same code that ``SigV4Verifier`` checks it with.
public struct SigV4Signer: Sendable {
    /// The access key id, named in the credential scope.
    public let accessKeyID: String
    /// The secret the signing key derives from.
    public let secretAccessKey: String
    /// The region of the credential scope, e.g. `us-east-1`.
    public let region: String
    /// The service of the credential scope; `s3` for everything Cairn serves.
    public let service: String

    /// Derived signing keys by day: deriving one costs four HMACs, and a client signs many requests a day.
    private let signingKeys = SigningKeyCache()

    public init(accessKeyID: String, secretAccessKey: String, region: String = "us-east-1", service: String = "s3") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    /// The headers that authenticate `method path?query` sent to `host`: `x-amz-content-sha256`, `x-amz-date` and
    /// `authorization`, with `host` signed.
    ///
    /// - Parameters:
    ///   - host: the Host header exactly as the client sends it (`host:port` unless the port is the scheme's).
    ///   - path: the decoded path, e.g. `/bucket/a b`; the URL must carry it as ``SigV4/uriEncode(_:keepSlash:)``
    ///     with `keepSlash: true` encodes it.
    ///   - query: the decoded query items the URL carries, in any order.
    public func headers(
        method: String, host: String, path: String, query: [(name: String, value: String)] = [], date: Date = Date()
    ) -> [(name: String, value: String)] {
        let amzDate = SigV4.amzDate(date)
        let scope = scope(day: amzDate.prefix(8))
        let signed: [(name: String, value: String)] = [
            ("host", host), ("x-amz-content-sha256", SigV4.unsignedPayload), ("x-amz-date", amzDate),
        ]
        let signature = signature(
            method: method, path: path, query: query, headers: signed, amzDate: amzDate, scope: scope)
        let authorization =
            "\(SigV4.algorithm) Credential=\(accessKeyID)/\(scope), "
            + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=\(signature)"
        return [
            ("x-amz-content-sha256", SigV4.unsignedPayload), ("x-amz-date", amzDate), ("authorization", authorization),
        ]
    }

    /// The path and query of a presigned URL for `method path?query` sent to `host`, valid for `expires` seconds,
    /// as `aws s3 presign` makes them: the encoded path, then the encoded query with the signature last.
    public func presignedPath(
        method: String, host: String, path: String, query: [(name: String, value: String)] = [],
        expires: Int = 3600, date: Date = Date()
    ) -> String {
        presignedPaths(method: method, host: host, paths: [path], query: query, expires: expires, date: date)[0]
    }

    /// ``presignedPath(method:host:path:query:expires:date:)`` of each of `paths`, all signed with one timestamp.
    public func presignedPaths(
        method: String, host: String, paths: [String], query: [(name: String, value: String)] = [],
        expires: Int = 3600, date: Date = Date()
    ) -> [String] {
        let amzDate = SigV4.amzDate(date)
        let scope = scope(day: amzDate.prefix(8))
        let items =
            query + [
                ("X-Amz-Algorithm", SigV4.algorithm), ("X-Amz-Credential", "\(accessKeyID)/\(scope)"),
                ("X-Amz-Date", amzDate), ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", "host"),
            ]
        let canonicalQuery = SigV4.canonicalQuery(items)
        return paths.map { path in
            let signature = signature(
                method: method, path: path, query: items, headers: [("host", host)], amzDate: amzDate, scope: scope)
            return "\(SigV4.uriEncode(path, keepSlash: true))?\(canonicalQuery)&X-Amz-Signature=\(signature)"
        }
    }

    private func scope(day: Substring) -> String {
        "\(day)/\(region)/\(service)/aws4_request"
    }

    private func signature(
        method: String, path: String, query: [(name: String, value: String)], headers: [(name: String, value: String)],
        amzDate: String, scope: String
    ) -> String {
        let canonical = SigV4.canonicalRequestBytes(
            method: method, path: path, query: query, excluding: nil, headers: headers,
            payloadHash: SigV4.unsignedPayload)
        let stringToSign = SigV4.stringToSignBytes(amzDate: amzDate, scope: scope, canonicalRequest: canonical)
        let key = signingKeys.key(
            secret: secretAccessKey, date: String(amzDate.prefix(8)), region: region, service: service)
        return HMACSHA256.authenticate(stringToSign, key: key).hexString
    }
}
