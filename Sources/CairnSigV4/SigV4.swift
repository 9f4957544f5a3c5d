import CairnCore
import Foundation

/// The pieces of AWS Signature Version 4 that both signing and verifying use.
public enum SigV4 {
    /// The algorithm name in headers and query strings.
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The SHA-256 of the empty string, as hex.
    public static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The payload hash of a request whose body is not signed (presigned URLs, and clients that skip hashing).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

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
        out.reserveCapacity(text.utf8.count + 16)
        appendURIEncoded(text, keepSlash: keepSlash, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `text` percent-encoded as ``uriEncode(_:keepSlash:)`` does.
    static func appendURIEncoded(_ text: some StringProtocol, keepSlash: Bool, to out: inout [UInt8]) {
        var text = String(text)
        text.withUTF8 { bytes in
            // Runs of bytes that stay as they are are copied whole: most of a key or a query value is one run.
            var runStart = 0
            for (index, byte) in bytes.enumerated() where !(isUnreserved(byte) || (keepSlash && byte == 0x2f)) {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                out.append(0x25)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xf)])
                runStart = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5a, 0x61...0x7a, 0x30...0x39: true  // A-Z a-z 0-9
        case 0x2d, 0x5f, 0x2e, 0x7e: true  // - _ . ~
        default: false
        }
    }

    /// Decodes `%XX` escapes; `+` stays `+`. Nil when an escape is malformed or the bytes are not UTF-8.
    public static func percentDecode(_ text: some StringProtocol) -> String? {
        var text = String(text)
        return text.withUTF8 { percentDecode($0[...]) }
    }

    /// ``percentDecode(_:)`` of UTF-8 bytes.
    static func percentDecode(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
        guard bytes.contains(UInt8(ascii: "%")) else {
            return String(utf8Validating: UnsafeBufferPointer(rebasing: bytes))
        }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]),
                    let low = hexValue(bytes[index + 2])
                else { return nil }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out.withUnsafeBufferPointer { String(utf8Validating: $0) }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Splits a raw query string into decoded name/value pairs, in order; `?uploads` gives `("uploads", "")`.
    public static func parseQuery(_ query: String?) -> [(name: String, value: String)]? {
        guard var query, !query.isEmpty else { return [] }
        // On the UTF-8 bytes: every request is parsed, and presigned URLs carry seven long parameters.
        return query.withUTF8 { bytes -> [(name: String, value: String)]? in
            var items: [(name: String, value: String)] = []
            var start = 0
            while start <= bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: "&") { end += 1 }
                if end > start {
                    var equals = start
                    while equals < end && bytes[equals] != UInt8(ascii: "=") { equals += 1 }
                    guard let name = percentDecode(bytes[start..<equals]) else { return nil }
                    let value = equals < end ? percentDecode(bytes[(equals + 1)..<end]) : ""
                    guard let value else { return nil }
                    items.append((name, value))
                }
                start = end + 1
            }
            return items
        }
    }

    /// The canonical query string from decoded pairs: encoded, sorted by name then value.
    public static func canonicalQuery(_ items: [(name: String, value: String)]) -> String {
        var out = [UInt8]()
        appendCanonicalQuery(items, excluding: nil, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the canonical query of `items`, leaving out those named `excluded` (a presigned URL's signature).
    ///
    /// Built on bytes, not strings: every signed request has one, and a presigned URL's has six long parameters.
    static func appendCanonicalQuery(
        _ items: [(name: String, value: String)], excluding excluded: String?, to out: inout [UInt8]
    ) {
        var encoded = [UInt8]()
        encoded.reserveCapacity(items.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count } + 32)
        var pairs: [(name: Range<Int>, value: Range<Int>)] = []
        pairs.reserveCapacity(items.count)
        for item in items where item.name != excluded {
            let nameStart = encoded.count
            appendURIEncoded(item.name, keepSlash: false, to: &encoded)
            let valueStart = encoded.count
            appendURIEncoded(item.value, keepSlash: false, to: &encoded)
            pairs.append((nameStart..<valueStart, valueStart..<encoded.count))
        }
        encoded.withUnsafeBufferPointer { bytes in
            // Byte order, as SigV4 sorts (the encoded text is ASCII).
            pairs.sort { a, b in
                let (nameA, nameB) = (bytes[a.name], bytes[b.name])
                return nameA.elementsEqual(nameB)
                    ? bytes[a.value].lexicographicallyPrecedes(bytes[b.value])
                    : nameA.lexicographicallyPrecedes(nameB)
            }
            for (index, pair) in pairs.enumerated() {
                if index > 0 { out.append(UInt8(ascii: "&")) }
                out.append(contentsOf: bytes[pair.name])
                out.append(UInt8(ascii: "="))
                out.append(contentsOf: bytes[pair.value])
            }
        }
    }

    /// A header value as SigV4 canonicalises it: trimmed, runs of spaces collapsed to one.
    public static func canonicalHeaderValue(_ value: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        appendCanonicalHeaderValue(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends ``canonicalHeaderValue(_:)`` of `value`.
    static func appendCanonicalHeaderValue(_ value: String, to out: inout [UInt8]) {
        // Byte by byte (spaces and tabs are ASCII; UTF-8 continuation bytes never look like them): Foundation's
        // trimming bridges through NSString and was a quarter of a small GET's CPU time.
        let start = out.count
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                pendingSpace = out.count > start
            } else {
                if pendingSpace { out.append(UInt8(ascii: " ")) }
                pendingSpace = false
                out.append(byte)
            }
        }
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
        var out = [UInt8]()
        out.reserveCapacity(256 + canonicalURI.utf8.count + canonicalQuery.utf8.count)
        appendLine(method, to: &out)
        appendLine(canonicalURI, to: &out)
        appendLine(canonicalQuery, to: &out)
        appendCanonicalHeaders(headers, payloadHash: payloadHash, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The canonical request's bytes for a decoded path and query, leaving out query items named `excluded`.
    static func canonicalRequestBytes(
        method: String, path: String, query: [(name: String, value: String)], excluding excluded: String?,
        headers: [(name: String, value: String)], payloadHash: String
    ) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(512)
        appendLine(method, to: &out)
        appendURIEncoded(path, keepSlash: true, to: &out)
        out.append(UInt8(ascii: "\n"))
        appendCanonicalQuery(query, excluding: excluded, to: &out)
        out.append(UInt8(ascii: "\n"))
        appendCanonicalHeaders(headers, payloadHash: payloadHash, to: &out)
        return out
    }

    /// The canonical request after its query line: one `name:value` line per header, an empty line, the signed
    /// header names, and the payload hash.
    private static func appendCanonicalHeaders(
        _ headers: [(name: String, value: String)], payloadHash: String, to out: inout [UInt8]
    ) {
        for header in headers {
            out.append(contentsOf: header.name.utf8)
            out.append(UInt8(ascii: ":"))
            appendCanonicalHeaderValue(header.value, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
        out.append(UInt8(ascii: "\n"))
        for (index, header) in headers.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ";")) }
            out.append(contentsOf: header.name.utf8)
        }
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: payloadHash.utf8)
    }

    private static func appendLine(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
        out.append(UInt8(ascii: "\n"))
    }

    /// The string to sign for a request.
    public static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        String(
            decoding: stringToSignBytes(amzDate: amzDate, scope: scope, canonicalRequest: Array(canonicalRequest.utf8)),
            as: UTF8.self)
    }

    /// ``stringToSign(amzDate:scope:canonicalRequest:)`` of a canonical request's bytes, as bytes.
    static func stringToSignBytes(amzDate: String, scope: String, canonicalRequest: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(160)
        appendLine(algorithm, to: &out)
        appendLine(amzDate, to: &out)
        appendLine(scope, to: &out)
        out.append(contentsOf: MessageDigest.hash(.sha256, canonicalRequest).hexString.utf8)
        return out
    }
}
