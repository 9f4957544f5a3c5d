import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension S3Service {
    static let ownerID = "cairn"

    func xmlResponse(_ xml: XMLWriter, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        let body = ByteBuffer(string: xml.document)
        headers[.contentType] = "application/xml"
        headers[.contentLength] = String(body.readableBytes)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    func emptyResponse(_ status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        if status != .noContent && status != .notModified { headers[.contentLength] = "0" }
        return Response(status: status, headers: headers)
    }

    /// `<Owner>` or `<Initiator>`: Cairn has one account.
    func ownerElement(_ xml: XMLWriter, _ name: String) {
        xml.element(name) {
            xml.element("ID", Self.ownerID)
            xml.element("DisplayName", Self.ownerID)
        }
    }

    /// ListBuckets, by name, a page of `max-buckets` at a time after `continuation-token` (the last name of the
    /// previous page), under `prefix`.
    func listBuckets(_ s3: S3Request) async throws -> Response {
        let maxBuckets = try s3.intQuery("max-buckets", default: 10_000, range: 1...10_000)
        let prefix = s3.query("prefix") ?? ""
        var after: String?
        if let token = s3.query("continuation-token") {
            guard let bytes = Data(base64Encoded: token), let name = String(bytes: bytes, encoding: .utf8) else {
                throw S3Error.invalidArgument("The continuation token provided is incorrect")
            }
            after = name
        }
        // Bucket names are lowercase ASCII: String order is their byte order, the store's.
        let matching = try await metadata.buckets().filter { bucket in
            bucket.name.hasPrefix(prefix) && after.map { bucket.name > $0 } ?? true
        }
        let buckets = matching.prefix(maxBuckets)
        let xml = XMLWriter()
        xml.element("ListAllMyBucketsResult", namespace: true) {
            ownerElement(xml, "Owner")
            xml.element("Buckets") {
                for bucket in buckets {
                    xml.element("Bucket") {
                        xml.element("Name", bucket.name)
                        xml.element("CreationDate", S3Format.iso8601(bucket.createdAt))
                        xml.element("BucketRegion", configuration.region)
                    }
                }
            }
            if matching.count > maxBuckets, let last = buckets.last {
                xml.element("ContinuationToken", Data(last.name.utf8).base64EncodedString())
            }
            if s3.query("prefix") != nil { xml.element("Prefix", prefix) }
        }
        return xmlResponse(xml)
    }

    func createBucket(_ s3: S3Request, bucket: String) async throws -> Response {
        try BucketName.validate(bucket)
        let body = try await receiver.receiveSmall(s3, limit: 64 * 1024)
        if !body.isEmpty {
            let root = try XMLNode.parse(body)
            guard root.name == "CreateBucketConfiguration" else {
                throw S3Error.malformedXML("expected CreateBucketConfiguration, found \(root.name)")
            }
        }
        try await metadata.createBucket(bucket)
        if s3.header("x-amz-bucket-object-lock-enabled")?.lowercased() == "true" {
            try await enableObjectLock(onNewBucket: bucket)
        }
        var headers = HTTPFields()
        headers[.location] = "/\(bucket)"
        return emptyResponse(headers: headers)
    }

    func headBucket(_ s3: S3Request, bucket: String) async throws -> Response {
        guard try await metadata.bucket(bucket) != nil else { throw S3Error.noSuchBucket(bucket) }
        var headers = HTTPFields()
        headers[HTTPField.Name("x-amz-bucket-region")!] = configuration.region
        return emptyResponse(headers: headers)
    }

    func deleteBucket(_ s3: S3Request, bucket: String) async throws -> Response {
        try await metadata.deleteBucket(bucket)
        return emptyResponse(.noContent)
    }

    func getBucketLocation(_ s3: S3Request, bucket: String) async throws -> Response {
        guard try await metadata.bucket(bucket) != nil else { throw S3Error.noSuchBucket(bucket) }
        let xml = XMLWriter()
        // S3 reports us-east-1 as an empty constraint.
        let constraint = configuration.region == "us-east-1" ? "" : configuration.region
        xml.element("LocationConstraint", namespace: true) { xml.text(constraint) }
        return xmlResponse(xml)
    }
}

/// S3's bucket naming rules.
enum BucketName {
    static func validate(_ name: String) throws {
        func invalid(_ why: String) -> S3Error {
            S3Error(
                "InvalidBucketName", "The specified bucket is not valid: \(why).", status: .badRequest, resource: name)
        }
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { throw invalid("a bucket name has 3 to 63 characters") }
        let allowed = bytes.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
        }
        guard allowed else { throw invalid("only lowercase letters, digits, dots and hyphens are allowed") }
        let isAlphanumeric: (UInt8) -> Bool = {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
        }
        guard isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else {
            throw invalid("a bucket name begins and ends with a letter or digit")
        }
        guard !name.contains(".."), !name.contains(".-"), !name.contains("-.") else {
            throw invalid("dots may not be adjacent to dots or hyphens")
        }
        let parts = name.split(separator: ".")
        if parts.count == 4 && parts.allSatisfy({ UInt8($0) != nil }) {
            throw invalid("a bucket name is not an IP address")
        }
        for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] where name.hasPrefix(prefix) {
            throw invalid("the prefix \(prefix) is reserved")
        }
        for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3"] where name.hasSuffix(suffix) {
            throw invalid("the suffix \(suffix) is reserved")
        }
    }
}
