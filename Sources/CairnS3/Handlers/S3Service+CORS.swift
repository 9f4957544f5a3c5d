import CairnCore
import Foundation
import HTTPTypes
import Hummingbird

extension S3Service {
    static let corsKind = "cors"

    /// A bucket's CORS rules; nil when it has none.
    func corsRules(bucket: String) async throws -> [CORSRule]? {
        guard let document = try await metadata.bucketConfiguration(bucket: bucket, kind: Self.corsKind) else {
            return nil
        }
        return try JSONDecoder().decode([CORSRule].self, from: document)
    }

    /// PutBucketCors: `CORSConfiguration` with 1 to 100 `CORSRule`s.
    func putBucketCors(_ s3: S3Request, bucket: String) async throws -> Response {
        let root = try XMLNode.parse(try await receiver.receiveSmall(s3, limit: 64 * 1024))
        guard root.name == "CORSConfiguration" else {
            throw S3Error.malformedXML("expected CORSConfiguration, found \(root.name)")
        }
        let rules = try root.children("CORSRule").map { node in
            let methods = node.children("AllowedMethod").map(\.text)
            let origins = node.children("AllowedOrigin").map(\.text)
            guard !methods.isEmpty, !origins.isEmpty else {
                throw S3Error.malformedXML("a CORSRule needs an AllowedMethod and an AllowedOrigin")
            }
            if let method = methods.first(where: { !["GET", "PUT", "POST", "DELETE", "HEAD"].contains($0) }) {
                throw S3Error.invalidRequest(
                    "Found unsupported HTTP method in CORS config. Unsupported method is \(method)")
            }
            for origin in origins where origin.filter({ $0 == "*" }).count > 1 {
                throw S3Error.invalidRequest("AllowedOrigin \"\(origin)\" can not have more than one wildcard.")
            }
            return CORSRule(
                id: node.child("ID")?.text, allowedOrigins: origins, allowedMethods: methods,
                allowedHeaders: node.children("AllowedHeader").map(\.text),
                exposeHeaders: node.children("ExposeHeader").map(\.text),
                maxAgeSeconds: node.child("MaxAgeSeconds").flatMap { Int($0.text) })
        }
        guard (1...100).contains(rules.count) else { throw S3Error.malformedXML("a configuration has 1 to 100 rules") }
        try await metadata.setBucketConfiguration(
            bucket: bucket, kind: Self.corsKind, document: try JSONEncoder().encode(rules))
        return emptyResponse()
    }

    /// GetBucketCors: the rules as set, or 404 NoSuchCORSConfiguration.
    func getBucketCors(_ s3: S3Request, bucket: String) async throws -> Response {
        guard let rules = try await corsRules(bucket: bucket) else {
            throw S3Error(
                "NoSuchCORSConfiguration", "The CORS configuration does not exist", status: .notFound,
                resource: bucket)
        }
        let xml = XMLWriter()
        xml.element("CORSConfiguration", namespace: true) {
            for rule in rules {
                xml.element("CORSRule") {
                    if let id = rule.id { xml.element("ID", id) }
                    for header in rule.allowedHeaders { xml.element("AllowedHeader", header) }
                    for method in rule.allowedMethods { xml.element("AllowedMethod", method) }
                    for origin in rule.allowedOrigins { xml.element("AllowedOrigin", origin) }
                    for header in rule.exposeHeaders { xml.element("ExposeHeader", header) }
                    if let age = rule.maxAgeSeconds { xml.element("MaxAgeSeconds", String(age)) }
                }
            }
        }
        return xmlResponse(xml)
    }

    /// DeleteBucketCors.
    func deleteBucketCors(_ s3: S3Request, bucket: String) async throws -> Response {
        try await metadata.setBucketConfiguration(bucket: bucket, kind: Self.corsKind, document: nil)
        return emptyResponse(.noContent)
    }

    /// Whether `value` matches `pattern`, which may hold one `*` standing for any run of characters.
    static func wildcardMatches(_ pattern: String, _ value: String, caseInsensitive: Bool = false) -> Bool {
        let (pattern, value) = caseInsensitive ? (pattern.lowercased(), value.lowercased()) : (pattern, value)
        guard let star = pattern.firstIndex(of: "*") else { return pattern == value }
        let head = pattern[..<star]
        let tail = pattern[pattern.index(after: star)...]
        return value.count >= head.count + tail.count && value.hasPrefix(head) && value.hasSuffix(tail)
    }

    /// The first rule that lets `origin` use `method` with every one of `headers`, as S3 picks it.
    static func corsRule(in rules: [CORSRule], origin: String, method: String, headers: [String]) -> CORSRule? {
        rules.first { rule in
            rule.allowedOrigins.contains { wildcardMatches($0, origin) } && rule.allowedMethods.contains(method)
                && headers.allSatisfy { header in
                    rule.allowedHeaders.contains { wildcardMatches($0, header, caseInsensitive: true) }
                }
        }
    }

    /// The Access-Control-* headers a rule grants `origin`.
    static func corsHeaders(_ rule: CORSRule, origin: String, requestedHeaders: [String]) -> HTTPFields {
        var fields = HTTPFields()
        fields[.accessControlAllowOrigin] = rule.allowedOrigins.contains("*") ? "*" : origin
        fields[.accessControlAllowMethods] = rule.allowedMethods.joined(separator: ", ")
        if !requestedHeaders.isEmpty {
            fields[.accessControlAllowHeaders] = requestedHeaders.joined(separator: ", ")
        }
        if !rule.exposeHeaders.isEmpty {
            fields[.accessControlExposeHeaders] = rule.exposeHeaders.joined(separator: ", ")
        }
        if let age = rule.maxAgeSeconds { fields[.accessControlMaxAge] = String(age) }
        if !rule.allowedOrigins.contains("*") { fields[.vary] = "Origin" }
        return fields
    }

    /// A CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`), answered without
    /// authentication as browsers send it: 200 with what the bucket's first matching rule allows, 403 otherwise.
    func preflight(_ head: HTTPRequest, bucket: String?) async throws -> Response {
        guard let origin = head.headerFields[.origin], let method = head.headerFields[.accessControlRequestMethod]
        else {
            throw S3Error.invalidRequest(
                "Insufficient information. Origin request header needed and Access-Control-Request-Method needed.")
        }
        guard let bucket else {
            throw S3Error.accessDenied("CORSResponse: CORS is not enabled for the service endpoint; name a bucket.")
        }
        let requested = (head.headerFields[.accessControlRequestHeaders] ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        guard let rules = try await corsRules(bucket: bucket) else {
            throw S3Error("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.", status: .forbidden)
        }
        guard let rule = Self.corsRule(in: rules, origin: origin, method: method, headers: requested) else {
            throw S3Error(
                "AccessForbidden",
                "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
                status: .forbidden)
        }
        var fields = Self.corsHeaders(rule, origin: origin, requestedHeaders: requested)
        fields[.contentLength] = "0"
        return Response(status: .ok, headers: fields)
    }

    /// Adds the Access-Control-* headers to the answer of a browser's request (one with `Origin`) that a rule of
    /// its bucket allows; leaves any other answer as it is.
    func addCORSHeaders(to response: inout Response, _ s3: S3Request) async {
        guard let origin = s3.header(.origin), let bucket = s3.bucket,
            let rules = try? await corsRules(bucket: bucket),
            let rule = Self.corsRule(in: rules, origin: origin, method: s3.method.rawValue, headers: [])
        else { return }
        for field in Self.corsHeaders(rule, origin: origin, requestedHeaders: []) {
            response.headers[field.name] = field.value
        }
    }
}
