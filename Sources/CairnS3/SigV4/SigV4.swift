import CairnCore
import Foundation

/// The pieces of AWS Signature Version 4 that both signing and verifying use.
public enum SigV4 {
    /// The algorithm name in headers and query strings.
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The SHA-256 of the empty string, as hex.
    public static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The key derived from a secret for one day, region and service.
    public static func signingKey(secret: String, date: String, region: String, service: String) -> [UInt8] {
        let dateKey = HMACSHA256.authenticate(date, key: Array("AWS4\(secret)".utf8))
        let regionKey = HMACSHA256.authenticate(region, key: dateKey)
        let serviceKey = HMACSHA256.authenticate(service, key: regionKey)
        return HMACSHA256.authenticate("aws4_request", key: serviceKey)
    }

    /// The hex signature of a string to sign.
    public static func signature(of stringToSign: String, key: [UInt8]) -> String {
        HMACSHA256.authenticate(stringToSign, key: key).hexString
    }

    /// Percent-encodes as SigV4 requires: unreserved characters stay, every other byte becomes `%XX`.
    public static func uriEncode(_ text: some StringProtocol, keepSlash: Bool) -> String {
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count)
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            if isUnreserved(byte) || (keepSlash && byte == 0x2f) {
                out.append(byte)
            } else {
                out += [0x25, hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5a, 0x61...0x7a, 0x30...0x39: true  // A-Z a-z 0-9
        case 0x2d, 0x5f, 0x2e, 0x7e: true  // - _ . ~
        default: false
        }
    }

    /// Decodes `%XX` escapes; `+` stays `+`. Nil when an escape is malformed or the bytes are not UTF-8.
    public static func percentDecode(_ text: some StringProtocol) -> String? {
        let utf8 = Array(text.utf8)
        guard utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%") {
                guard index + 2 < utf8.count,
                    let byte = [UInt8](hex: String(decoding: utf8[index + 1...index + 2], as: UTF8.self))
                else { return nil }
                out.append(byte[0])
                index += 3
            } else {
                out.append(utf8[index])
                index += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Splits a raw query string into decoded name/value pairs, in order; `?uploads` gives `("uploads", "")`.
    public static func parseQuery(_ query: String?) -> [(name: String, value: String)]? {
        guard let query, !query.isEmpty else { return [] }
        var items: [(String, String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = percentDecode(pieces[0]) else { return nil }
            let value = pieces.count > 1 ? percentDecode(pieces[1]) : ""
            guard let value else { return nil }
            items.append((name, value))
        }
        return items
    }

    /// The canonical query string from decoded pairs: encoded, sorted by name then value.
    public static func canonicalQuery(_ items: [(name: String, value: String)]) -> String {
        let encoded: [(name: String, value: String)] = items.map {
            (uriEncode($0.name, keepSlash: false), uriEncode($0.value, keepSlash: false))
        }
        let sorted = encoded.sorted { (a, b) -> Bool in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// A header value as SigV4 canonicalises it: trimmed, runs of spaces collapsed to one.
    public static func canonicalHeaderValue(_ value: String) -> String {
        // Byte by byte (spaces and tabs are ASCII; UTF-8 continuation bytes never look like them): Foundation's
        // trimming bridges through NSString and was a quarter of a small GET's CPU time.
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(UInt8(ascii: " ")) }
                pendingSpace = false
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `bytes` without leading and trailing spaces and tabs.
    public static func trimmed(_ bytes: Substring.UTF8View) -> Substring.UTF8View {
        let isBlank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }) else { return bytes[bytes.endIndex...] }
        let last = bytes.lastIndex(where: { !isBlank($0) })!
        return bytes[first...last]
    }

    /// The canonical request: method, URI, query, headers, signed header names and payload hash.
    public static func canonicalRequest(
        method: String, canonicalURI: String, canonicalQuery: String, headers: [(name: String, value: String)],
        payloadHash: String
    ) -> String {
        let canonicalHeaders = headers.map { "\($0.name):\(canonicalHeaderValue($0.value))\n" }.joined()
        let signedHeaders = headers.map(\.name).joined(separator: ";")
        return [method, canonicalURI, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].joined(
            separator: "\n")
    }

    /// The string to sign for a request.
    public static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        [algorithm, amzDate, scope, MessageDigest.sha256Hex(canonicalRequest)].joined(separator: "\n")
    }
}
