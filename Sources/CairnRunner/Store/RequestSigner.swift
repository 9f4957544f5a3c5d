import CairnCore
import Foundation

/// Signs S3 requests with AWS Signature Version 4 (header form, `UNSIGNED-PAYLOAD`), as the AWS CLI does.
///
/// Small on purpose: the runner signs only path-style PUTs without query strings. (The server's verifier lives in
/// CairnS3; depending on it would pull the server's HTTP stack into the runner.)
struct RequestSigner: Sendable {
    let credentials: StoreCredentials
    let region: String

    /// The headers to add to a request for `path` (already percent-encoded) on `host`.
    func headers(method: String, host: String, path: String, date: Date = Date()) -> [(String, String)] {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let amzDate = formatter.string(from: date)
        let day = String(amzDate.prefix(8))
        let payload = "UNSIGNED-PAYLOAD"
        let signedHeaders = "host;x-amz-content-sha256;x-amz-date"
        let canonicalRequest = [
            method, path, "", "host:\(host)\nx-amz-content-sha256:\(payload)\nx-amz-date:\(amzDate)\n", signedHeaders,
            payload,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/s3/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, MessageDigest.sha256Hex(canonicalRequest)]
            .joined(separator: "\n")
        var key = HMACSHA256.authenticate(day, key: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [region, "s3", "aws4_request"] { key = HMACSHA256.authenticate(part, key: key) }
        let signature = HMACSHA256.authenticate(stringToSign, key: key).hexString
        return [
            ("x-amz-content-sha256", payload),
            ("x-amz-date", amzDate),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), "
                    + "Signature=\(signature)"
            ),
        ]
    }

    /// Percent-encodes as SigV4 requires: unreserved characters stay, every other byte becomes `%XX`.
    static func uriEncode(_ text: some StringProtocol, keepSlash: Bool) -> String {
        var out = [UInt8]()
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5a, 0x61...0x7a, 0x30...0x39, 0x2d, 0x5f, 0x2e, 0x7e: out.append(byte)
            case 0x2f where keepSlash: out.append(byte)
            default: out += [0x25, hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
