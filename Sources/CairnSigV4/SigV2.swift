import CairnCore
import Foundation

/// AWS Signature Version 2 for S3: the string to sign and its HMAC-SHA1 signature.
///
/// `StringToSign = Verb \n Content-MD5 \n Content-Type \n Date-or-Expires \n CanonicalizedAmzHeaders
/// CanonicalizedResource`, where the resource is the path as sent (still percent-encoded, with the bucket first
/// even when the host names it) followed by the sub-resources S3 signs.
public enum SigV2 {
    /// The query parameters a SigV2 signature covers, as S3 and botocore sign them; all others are left out.
    public static let signedSubresources: Set<String> = [
        "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory", "lifecycle", "location",
        "logging", "metrics", "notification", "object-lock", "partNumber", "policy", "replication", "requestPayment",
        "response-cache-control", "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires", "restore", "select", "select-type",
        "storageClass", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website",
    ]

    /// The narrower list of S3's SigV2 documentation, which older signers (rclone's among them) keep to: a request
    /// they sign with, say, `?tagging` leaves it out of the resource.
    public static let documentedSubresources: Set<String> = [
        "acl", "delete", "lifecycle", "location", "logging", "notification", "partNumber", "policy", "requestPayment",
        "response-cache-control", "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires", "torrent", "uploadId", "uploads",
        "versionId", "versioning", "versions", "website",
    ]

    /// The canonicalized resource: `path` as sent, then `?` and the signed sub-resources sorted by name, each as
    /// `name` or `name=value` with its value decoded.
    public static func canonicalResource(
        path: String, query: [(name: String, value: String)], subresources: Set<String> = signedSubresources
    ) -> String {
        let signed = query.filter { subresources.contains($0.name) }.sorted { $0.name < $1.name }
        guard !signed.isEmpty else { return path }
        return path + "?" + signed.map { $0.value.isEmpty ? $0.name : "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// The canonicalized `x-amz-*` headers: lowercase names, sorted, values trimmed, one `name:value\n` each.
    public static func canonicalAmzHeaders(_ headers: [(name: String, value: String)]) -> String {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let lowered = name.lowercased()
            guard lowered.hasPrefix("x-amz-") else { continue }
            merged[lowered, default: []].append(SigV4.canonicalHeaderValue(value))
        }
        return merged.keys.sorted().map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
    }

    /// The string to sign from its parts; `date` is the Date (or x-amz-date) header, or `Expires` for a presigned
    /// URL.
    public static func stringToSign(
        method: String, contentMD5: String, contentType: String, date: String, amzHeaders: String, resource: String
    ) -> String {
        "\(method)\n\(contentMD5)\n\(contentType)\n\(date)\n\(amzHeaders)\(resource)"
    }

    /// The signature of a string to sign: Base64 of its HMAC-SHA1 under the secret access key.
    public static func signature(of stringToSign: String, secret: String) -> String {
        Data(HMACSHA1.authenticate(Array(stringToSign.utf8), key: Array(secret.utf8))).base64EncodedString()
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static let formatters: [DateFormatter] = [
        "EEE, dd MMM yyyy HH:mm:ss zzz", "EEE, dd MMM yyyy HH:mm:ss Z", "EEEE, dd-MMM-yy HH:mm:ss zzz",
        "EEE MMM d HH:mm:ss yyyy",
    ].map { format in
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = format
        return formatter
    }

    /// Parses a `Date` or `x-amz-date` header in one of HTTP's date formats (RFC 1123 with `GMT` or `+0000`, RFC 850,
    /// asctime) or SigV4's `20130524T000000Z`; nil when it is none of them.
    public static func parseDate(_ text: String) -> Date? {
        if let date = SigV4.parseAmzDate(text) { return date }
        // DateFormatter is not safe to share between threads: the lock guards all four.
        return lock.withLock { formatters.lazy.compactMap { $0.date(from: text) }.first }
    }
}
