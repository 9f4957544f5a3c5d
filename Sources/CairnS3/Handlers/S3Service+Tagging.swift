import CairnCore
import CairnSigV4
import Foundation
import HTTPTypes
import Hummingbird

extension S3Service {
    /// S3's limits on a tag set: ten tags on an object (fifty on a bucket), keys of at most 128 characters and
    /// values of at most 256, keys unique.
    static func validateTags(_ tags: [ObjectTag], limit: Int = 10) throws {
        func invalid(_ why: String) -> S3Error { S3Error("InvalidTag", why, status: .badRequest) }
        guard tags.count <= limit else { throw invalid("Tags cannot be greater than \(limit)") }
        guard Set(tags.map(\.key)).count == tags.count else {
            throw invalid("Cannot provide multiple Tags with the same key")
        }
        for tag in tags {
            guard !tag.key.isEmpty, tag.key.count <= 128 else {
                throw invalid("The TagKey you have provided is invalid: a key has 1 to 128 characters")
            }
            guard tag.value.count <= 256 else {
                throw invalid("The TagValue you have provided is invalid: a value has at most 256 characters")
            }
        }
    }

    /// The tag set of an `x-amz-tagging` header (`k1=v1&k2=v2`, URL-encoded); nil when the request has none.
    func requestTags(_ s3: S3Request) throws -> [ObjectTag]? {
        guard let header = s3.header("x-amz-tagging") else { return nil }
        guard let items = SigV4.parseQuery(header.replacingOccurrences(of: "+", with: "%20")) else {
            throw S3Error.invalidArgument("The x-amz-tagging header is not valid URL-encoded UTF-8")
        }
        let tags = items.map { ObjectTag(key: $0.name, value: $0.value) }
        try Self.validateTags(tags)
        return tags
    }

    /// Rewrites the tag set of the version the request names (`?versionId=`, or the current one) in place.
    private func retag(_ s3: S3Request, bucket: String, key: String, _ tags: [ObjectTag]?) async throws -> Response {
        let object = try await metadata.updateObjectHeaders(
            bucket: bucket, key: key, versionID: s3.query("versionId")
        ) { headers in
            headers.tags = tags?.isEmpty == false ? tags : nil
        }
        return emptyResponse(tags == nil ? .noContent : .ok, headers: Self.versionHeaders(object))
    }

    /// PutObjectTagging: replaces the object's tag set.
    func putObjectTagging(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        let tags = try await receiveTagging(s3, limit: 10)
        return try await retag(s3, bucket: bucket, key: key, tags)
    }

    /// The tag set of a `Tagging` document in the request body, checked against S3's limits.
    func receiveTagging(_ s3: S3Request, limit: Int) async throws -> [ObjectTag] {
        let root = try XMLNode.parse(try await receiver.receiveSmall(s3, limit: 64 * 1024))
        guard root.name == "Tagging", let set = root.child("TagSet") else {
            throw S3Error.malformedXML("expected Tagging with a TagSet")
        }
        let tags = try set.children("Tag").map { tag in
            guard let key = tag.child("Key")?.text, let value = tag.child("Value")?.text else {
                throw S3Error.malformedXML("every Tag needs a Key and a Value")
            }
            return ObjectTag(key: key, value: value)
        }
        try Self.validateTags(tags, limit: limit)
        return tags
    }

    /// A `Tagging` document of a tag set.
    func taggingResponse(_ tags: [ObjectTag]) -> Response {
        let xml = XMLWriter()
        xml.element("Tagging", namespace: true) {
            xml.element("TagSet") {
                for tag in tags {
                    xml.element("Tag") {
                        xml.element("Key", tag.key)
                        xml.element("Value", tag.value)
                    }
                }
            }
        }
        return xmlResponse(xml)
    }

    /// GetObjectTagging: the object's tag set, empty when it has none.
    func getObjectTagging(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        let object = try await readableObject(s3, bucket: bucket, key: key)
        var response = taggingResponse(object.headers.tags ?? [])
        if object.versionID != ObjectInfo.nullVersionID { response.headers[Self.versionIDHeader] = object.versionID }
        return response
    }

    /// DeleteObjectTagging: removes the object's tag set.
    func deleteObjectTagging(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        try await retag(s3, bucket: bucket, key: key, nil)
    }

    static let bucketTaggingKind = "tagging"

    /// PutBucketTagging: replaces the bucket's tag set (at most fifty tags).
    func putBucketTagging(_ s3: S3Request, bucket: String) async throws -> Response {
        let tags = try await receiveTagging(s3, limit: 50)
        try await metadata.setBucketConfiguration(
            bucket: bucket, kind: Self.bucketTaggingKind, document: try JSONEncoder().encode(tags))
        return emptyResponse(.noContent)
    }

    /// GetBucketTagging: the bucket's tag set, or 404 NoSuchTagSet when it has none.
    func getBucketTagging(_ s3: S3Request, bucket: String) async throws -> Response {
        guard let document = try await metadata.bucketConfiguration(bucket: bucket, kind: Self.bucketTaggingKind)
        else {
            throw S3Error("NoSuchTagSet", "The TagSet does not exist", status: .notFound, resource: bucket)
        }
        return taggingResponse(try JSONDecoder().decode([ObjectTag].self, from: document))
    }

    /// DeleteBucketTagging.
    func deleteBucketTagging(_ s3: S3Request, bucket: String) async throws -> Response {
        try await metadata.setBucketConfiguration(bucket: bucket, kind: Self.bucketTaggingKind, document: nil)
        return emptyResponse(.noContent)
    }
}
