import CairnCore
import Foundation

/// AWS Signature Version 2 on S3 requests: `Authorization: AWS AKID:signature`, or a presigned URL with
/// `AWSAccessKeyId`, `Signature` and `Expires`.
///
/// Legacy, but what boto3's `generate_presigned_url` and `aws s3 presign` produce at their defaults.
/// ``verify(_:)`` hands every request signed this way here, checked with the same keys, clock and skew as SigV4.
extension SigV4Verifier {
    /// Whether a request carries a Signature Version 2 signature (header or query) rather than SigV4 or none.
    static func isSignedWithVersion2(_ request: SignedRequest) -> Bool {
        if let header = request.headers["authorization"] { return header.hasPrefix("AWS ") }
        return request.query.contains { $0.name == "AWSAccessKeyId" || $0.name == "Signature" }
    }

    /// Checks the request's SigV2 signature and returns who signed it. SigV2 does not sign the body: the payload is
    /// unsigned (a Content-MD5, when sent, is still checked on upload).
    func verifyVersion2(_ request: SignedRequest) throws -> Authentication {
        if let header = request.headers["authorization"] {
            return try verifyVersion2Header(header, request)
        }
        return try verifyVersion2Presigned(request)
    }

    private func verifyVersion2Header(_ header: String, _ request: SignedRequest) throws -> Authentication {
        let credentials = header.dropFirst("AWS ".count)
        guard let colon = credentials.lastIndex(of: ":"), colon != credentials.startIndex else {
            throw SigV4Error(
                "InvalidArgument", "The Authorization header must be \"AWS AccessKeyId:Signature\"", status: 400)
        }
        let accessKeyID = String(credentials[..<colon])
        let signature = String(credentials[credentials.index(after: colon)...])
        let secret = try secret(for: accessKeyID)
        let amzDate = request.headers["x-amz-date"]
        guard let dateText = amzDate ?? request.headers["date"], let date = SigV2.parseDate(dateText) else {
            throw SigV4Error.accessDenied("AWS authentication requires a valid Date or x-amz-date header")
        }
        if abs(date.timeIntervalSince(now())) > maximumSkew {
            throw SigV4Error(
                "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.",
                status: 403)
        }
        let headers = request.headers.map { (name: $0.key, value: $0.value) }
        // With x-amz-date, S3 signs an empty Date line and the header among the x-amz-* ones; AWS's own published
        // example instead puts x-amz-date's value on the Date line and leaves it out below. Both are accepted.
        var dateLines = [(date: amzDate == nil ? dateText : "", amzHeaders: headers)]
        if let amzDate {
            dateLines.append((amzDate, headers.filter { $0.name != "x-amz-date" }))
        }
        try checkVersion2(signature, accessKeyID: accessKeyID, secret: secret, request: request, dateLines: dateLines)
        return Authentication(accessKeyID: accessKeyID, payload: .unsigned)
    }

    private func verifyVersion2Presigned(_ request: SignedRequest) throws -> Authentication {
        func value(_ name: String) -> String? { request.query.first { $0.name == name }?.value }
        guard let accessKeyID = value("AWSAccessKeyId"), let signature = value("Signature"),
            let expiresText = value("Expires")
        else {
            throw SigV4Error.accessDenied(
                "Query-string authentication requires the AWSAccessKeyId, Signature and Expires parameters")
        }
        let secret = try secret(for: accessKeyID)
        guard let expires = Int64(expiresText) else {
            throw SigV4Error.accessDenied("Expires must be a number of seconds since the epoch")
        }
        if now().timeIntervalSince1970 > TimeInterval(expires) {
            throw SigV4Error.accessDenied("Request has expired")
        }
        // A presigning client moves the x-amz-* headers it signed into the query (botocore does): both count.
        var amzHeaders = request.headers.map { (name: $0.key, value: $0.value) }
        amzHeaders += request.query.filter { item in
            item.name.lowercased().hasPrefix("x-amz-") && !amzHeaders.contains { $0.name == item.name.lowercased() }
        }
        try checkVersion2(
            signature, accessKeyID: accessKeyID, secret: secret, request: request,
            dateLines: [(expiresText, amzHeaders)], entityFromQuery: true)
        return Authentication(accessKeyID: accessKeyID, payload: .unsigned)
    }

    /// Compares the signature with each way a client may have signed the request (the Date line's variants, the
    /// wide and the documented sub-resource lists, a bucket with and without its trailing slash); throws SignatureDoesNotMatch, with S3's string to sign, when none
    /// matches.
    private func checkVersion2(
        _ signature: String, accessKeyID: String, secret: String, request: SignedRequest,
        dateLines: [(date: String, amzHeaders: [(name: String, value: String)])], entityFromQuery: Bool = false
    ) throws {
        func entity(_ name: String) -> String {
            let fromQuery = entityFromQuery ? request.query.first { $0.name == name }?.value : nil
            return SigV4.canonicalHeaderValue(fromQuery ?? request.headers[name] ?? "")
        }
        let sent = request.resourcePath ?? SigV4.uriEncode(request.path, keepSlash: true)
        // A bucket's resource ends in a slash (`/bucket/`, as botocore signs it); some signers leave it off.
        let isBucket = sent.dropFirst().contains("/") == false && sent.count > 1
        var resources: [String] = []
        for path in isBucket ? [sent + "/", sent] : [sent] {
            for subresources in [SigV2.signedSubresources, SigV2.documentedSubresources] {
                let resource = SigV2.canonicalResource(path: path, query: request.query, subresources: subresources)
                if !resources.contains(resource) { resources.append(resource) }
            }
        }
        var first: String?
        for line in dateLines {
            let amzHeaders = SigV2.canonicalAmzHeaders(line.amzHeaders)
            for resource in resources {
                let stringToSign = SigV2.stringToSign(
                    method: request.method, contentMD5: entity("content-md5"), contentType: entity("content-type"),
                    date: line.date, amzHeaders: amzHeaders, resource: resource)
                if ConstantTime.equal(SigV2.signature(of: stringToSign, secret: secret), signature) { return }
                first = first ?? stringToSign
            }
        }
        var error = SigV4Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            status: 403)
        error.details = [("AWSAccessKeyId", accessKeyID), ("StringToSign", first ?? "")]
        throw error
    }
}
