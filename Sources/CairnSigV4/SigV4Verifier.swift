import CairnCore
import Foundation

/// Verifies AWS Signature Version 4 on S3 requests (the `Authorization` header or a presigned URL), and the legacy
/// Signature Version 2 that clients still produce at their defaults.
public struct SigV4Verifier: Sendable {
    /// Looks up the secret for an access key id; nil when the id is unknown.
    public let secretForAccessKey: @Sendable (String) -> String?
    /// The clock; injectable for tests.
    public let now: @Sendable () -> Date
    /// The largest accepted difference between the request's time and ours (S3: 15 minutes).
    public let maximumSkew: TimeInterval

    /// Derived signing keys by secret, day, region and service: deriving one costs four HMACs per request.
    private let signingKeys = SigningKeyCache()

    public init(
        maximumSkew: TimeInterval = 15 * 60,
        now: @escaping @Sendable () -> Date = { Date() },
        secretForAccessKey: @escaping @Sendable (String) -> String?
    ) {
        self.secretForAccessKey = secretForAccessKey
        self.now = now
        self.maximumSkew = maximumSkew
    }

    /// Checks the request's signature and returns who signed it and how its body must be verified.
    ///
    /// Throws a ``SigV4Error`` carrying S3's code, message and status for whatever was wrong.
    /// Requests signed with the legacy Signature Version 2 are verified as SigV2 (see `SigV4Verifier+SigV2.swift`).
    public func verify(_ request: SignedRequest) throws -> Authentication {
        if Self.isSignedWithVersion2(request) { return try verifyVersion2(request) }
        if let header = request.headers["authorization"] {
            return try verifyHeader(header, request)
        }
        if request.query.contains(where: { $0.name == "X-Amz-Signature" }) {
            return try verifyPresigned(request)
        }
        throw SigV4Error.accessDenied("Anonymous access is not allowed; sign requests with AWS Signature Version 4")
    }

    private struct Credential {
        let accessKeyID: String
        let date: String
        let region: String
        let service: String
        /// `date/region/service/aws4_request`: the credential after its access key id.
        let scope: String
    }

    private func parseCredential(_ text: String) throws -> Credential {
        // By hand on the UTF-8 bytes: splitting into an array of strings was a sixth of verifying a presigned URL.
        var text = text
        let (parts, scope) = text.withUTF8 { bytes -> ([String], String) in
            func string(_ range: Range<Int>) -> String {
                String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            }
            var parts: [String] = []
            parts.reserveCapacity(5)
            var start = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == UInt8(ascii: "/") {
                guard parts.count < 5 else { return ([], "") }
                parts.append(string(start..<index))
                start = index + 1
            }
            // The scope is everything after the access key id.
            return (parts, parts.count == 5 ? string((parts[0].utf8.count + 1)..<bytes.count) : "")
        }
        guard parts.count == 5, parts[4] == "aws4_request", parts[1].utf8.count == 8 else {
            throw SigV4Error(
                "AuthorizationHeaderMalformed",
                "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
                status: 400
            )
        }
        guard parts[3] == "s3" else {
            throw SigV4Error(
                "AuthorizationHeaderMalformed",
                "The authorization header is malformed; incorrect service \"\(parts[3])\". This endpoint belongs to \"s3\".",
                status: 400
            )
        }
        return Credential(
            accessKeyID: parts[0], date: parts[1], region: parts[2], service: parts[3],
            scope: scope)
    }

    func secret(for accessKeyID: String) throws -> String {
        guard let secret = secretForAccessKey(accessKeyID) else {
            throw SigV4Error(
                "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
                status: 403)
        }
        return secret
    }

    private func checkTime(_ amzDate: String) throws -> Date {
        guard let date = SigV4.parseAmzDate(amzDate) else {
            throw SigV4Error.accessDenied("AWS authentication requires a valid Date or x-amz-date header")
        }
        if abs(date.timeIntervalSince(now())) > maximumSkew {
            throw SigV4Error(
                "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.",
                status: 403
            )
        }
        return date
    }

    private func verifyHeader(_ header: String, _ request: SignedRequest) throws -> Authentication {
        guard header.hasPrefix(SigV4.algorithm + " ") else {
            throw SigV4Error("AuthorizationHeaderMalformed", "Unsupported authorization type", status: 400)
        }
        var fields: [String: String] = [:]
        // Split on the UTF-8 bytes: Character-based splitting was the costliest part of verifying a request.
        for part in header.utf8.dropFirst(SigV4.algorithm.utf8.count + 1).split(separator: UInt8(ascii: ",")) {
            let pair = SigV4.trimmed(part).split(separator: UInt8(ascii: "="), maxSplits: 1)
            if pair.count == 2 {
                fields[String(decoding: pair[0], as: UTF8.self)] = String(decoding: pair[1], as: UTF8.self)
            }
        }
        guard let credentialText = fields["Credential"], let signedHeadersText = fields["SignedHeaders"],
            let signature = fields["Signature"]
        else {
            throw SigV4Error(
                "AuthorizationHeaderMalformed",
                "The authorization header is malformed; it needs Credential, SignedHeaders and Signature.",
                status: 400
            )
        }
        let credential = try parseCredential(credentialText)
        let secret = try secret(for: credential.accessKeyID)
        guard let amzDate = request.headers["x-amz-date"] else {
            throw SigV4Error.accessDenied("AWS authentication requires a valid Date or x-amz-date header")
        }
        _ = try checkTime(amzDate)
        guard amzDate.hasPrefix(credential.date) else {
            throw SigV4Error(
                "AuthorizationHeaderMalformed",
                "The authorization header is malformed; the credential date does not match x-amz-date.",
                status: 400
            )
        }
        guard let payloadHash = request.headers["x-amz-content-sha256"] else {
            throw SigV4Error.invalidRequest("Missing required header for this request: x-amz-content-sha256")
        }
        _ = try payloadExpectation(payloadHash, context: nil)
        let signedHeaders = signedHeaderNames(signedHeadersText)
        guard signedHeaders.contains("host") else {
            throw SigV4Error.accessDenied("The host header must be signed")
        }
        let key = signingKeys.key(
            secret: secret, date: credential.date, region: credential.region, service: credential.service)
        try checkSignature(
            signature, of: request, excluding: nil, signedHeaders: signedHeaders, payloadHash: payloadHash,
            amzDate: amzDate, credential: credential, key: key)
        let context = ChunkSigningContext(
            signingKey: key, amzDate: amzDate, scope: credential.scope, seedSignature: signature)
        return Authentication(
            accessKeyID: credential.accessKeyID, payload: try payloadExpectation(payloadHash, context: context))
    }

    private func verifyPresigned(_ request: SignedRequest) throws -> Authentication {
        func value(_ name: String) -> String? { request.query.first { $0.name == name }?.value }
        guard value("X-Amz-Algorithm") == SigV4.algorithm else {
            throw SigV4Error.invalidArgument("X-Amz-Algorithm only supports \"\(SigV4.algorithm)\"")
        }
        guard let credentialText = value("X-Amz-Credential"), let amzDate = value("X-Amz-Date"),
            let expiresText = value("X-Amz-Expires"), let signedHeadersText = value("X-Amz-SignedHeaders"),
            let signature = value("X-Amz-Signature")
        else {
            throw SigV4Error.accessDenied(
                "Query-string authentication requires the X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature parameters"
            )
        }
        let credential = try parseCredential(credentialText)
        let secret = try secret(for: credential.accessKeyID)
        guard let expires = Int(expiresText), expires >= 0, expires <= 604_800 else {
            throw SigV4Error.accessDenied("X-Amz-Expires must be a number of seconds between 0 and 604800")
        }
        guard let signedAt = SigV4.parseAmzDate(amzDate), amzDate.hasPrefix(credential.date) else {
            throw SigV4Error.accessDenied("X-Amz-Date must be a valid date matching the credential scope")
        }
        let current = now()
        if current > signedAt.addingTimeInterval(TimeInterval(expires)) {
            throw SigV4Error.accessDenied("Request has expired")
        }
        if signedAt.timeIntervalSince(current) > maximumSkew {
            throw SigV4Error.accessDenied("Request is not valid yet")
        }
        let signedHeaders = signedHeaderNames(signedHeadersText)
        let payloadHash = value("X-Amz-Content-Sha256") ?? SigV4.unsignedPayload
        let key = signingKeys.key(
            secret: secret, date: credential.date, region: credential.region, service: credential.service)
        try checkSignature(
            signature, of: request, excluding: "X-Amz-Signature", signedHeaders: signedHeaders,
            payloadHash: payloadHash, amzDate: amzDate, credential: credential, key: key)
        return Authentication(accessKeyID: credential.accessKeyID, payload: .unsigned)
    }

    /// Computes the request's signature and compares it with the one it carries; throws SignatureDoesNotMatch,
    /// with the canonical request and string to sign, when they differ.
    private func checkSignature(
        _ signature: String, of request: SignedRequest, excluding excluded: String?, signedHeaders: [String],
        payloadHash: String, amzDate: String, credential: Credential, key: [UInt8]
    ) throws {
        let canonical = SigV4.canonicalRequestBytes(
            method: request.method, path: request.path, query: request.query, excluding: excluded,
            headers: signedHeaders.map { ($0, request.headers[$0] ?? "") }, payloadHash: payloadHash)
        let stringToSign = SigV4.stringToSignBytes(
            amzDate: amzDate, scope: credential.scope, canonicalRequest: canonical)
        guard ConstantTime.equal(HMACSHA256.authenticate(stringToSign, key: key).hexString, signature) else {
            throw mismatch(
                accessKeyID: credential.accessKeyID, stringToSign: String(decoding: stringToSign, as: UTF8.self),
                canonical: String(decoding: canonical, as: UTF8.self))
        }
    }

    private func signedHeaderNames(_ text: String) -> [String] {
        text.utf8.split(separator: UInt8(ascii: ";")).map { String(decoding: $0, as: UTF8.self).lowercased() }
    }

    private func payloadExpectation(_ value: String, context: ChunkSigningContext?) throws -> PayloadExpectation {
        switch value {
        case "UNSIGNED-PAYLOAD": return .unsigned
        case "STREAMING-UNSIGNED-PAYLOAD-TRAILER": return .streaming(signing: nil, trailer: true)
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": return .streaming(signing: context, trailer: false)
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": return .streaming(signing: context, trailer: true)
        default:
            guard value.utf8.count == 64, let bytes = [UInt8](hex: value) else {
                throw SigV4Error(
                    "InvalidArgument",
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value, or a SHA-256 hex digest",
                    status: 400
                )
            }
            return .sha256(bytes)
        }
    }

    private func mismatch(accessKeyID: String, stringToSign: String, canonical: String) -> SigV4Error {
        var error = SigV4Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            status: 403
        )
        error.details = [
            ("AWSAccessKeyId", accessKeyID), ("StringToSign", stringToSign), ("CanonicalRequest", canonical),
        ]
        return error
    }
}
