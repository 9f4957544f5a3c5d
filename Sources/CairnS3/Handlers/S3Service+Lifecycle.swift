import CairnCore
import Foundation
import Hummingbird

extension S3Service {
    /// PutBucketLifecycleConfiguration: `Expiration` (`Days`, `Date`, `ExpiredObjectDeleteMarker`),
    /// `NoncurrentVersionExpiration` (`NoncurrentDays`, `NewerNoncurrentVersions`) and
    /// `AbortIncompleteMultipartUpload` rules with a `Prefix` or `Filter` (`Prefix`, `Tag`, or `And` of a prefix
    /// and tags), as `aws s3api put-bucket-lifecycle-configuration` sends.
    func putBucketLifecycle(_ s3: S3Request, bucket: String) async throws -> Response {
        guard try await metadata.bucket(bucket) != nil else { throw S3Error.noSuchBucket(bucket) }
        let root = try XMLNode.parse(try await receiver.receiveSmall(s3, limit: 1 << 20))
        guard root.name == "LifecycleConfiguration" else {
            throw S3Error.malformedXML("expected LifecycleConfiguration, found \(root.name)")
        }
        let rules = try root.children("Rule").map(Self.lifecycleRule)
        guard !rules.isEmpty, rules.count <= 1000 else {
            throw S3Error.malformedXML("a configuration has 1 to 1000 rules")
        }
        try await metadata.setLifecycle(bucket: bucket, rules: rules)
        return emptyResponse()
    }

    private static func lifecycleRule(_ node: XMLNode) throws -> LifecycleRule {
        func days(_ text: String?, _ name: String) throws -> Int? {
            guard let text else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), value > 0 else {
                throw S3Error.invalidArgument("\(name) must be a positive integer")
            }
            return value
        }
        let noncurrent = node.child("NoncurrentVersionExpiration")
        let expiredMarker = node.child("Expiration")?.child("ExpiredObjectDeleteMarker")?.text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let status = node.child("Status")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard status == "Enabled" || status == "Disabled" else {
            throw S3Error.malformedXML("a Rule needs Status Enabled or Disabled")
        }
        let filter = node.child("Filter")
        let prefix =
            node.child("Prefix")?.text ?? filter?.child("Prefix")?.text ?? filter?.child("And")?.child("Prefix")?.text
            ?? ""
        let tags = try ((filter?.children("Tag") ?? []) + (filter?.child("And")?.children("Tag") ?? [])).map { tag in
            guard let key = tag.child("Key")?.text, let value = tag.child("Value")?.text else {
                throw S3Error.malformedXML("a filter's Tag needs a Key and a Value")
            }
            return ObjectTag(key: key, value: value)
        }
        if !tags.isEmpty, node.child("AbortIncompleteMultipartUpload") != nil {
            throw S3Error.invalidRequest("AbortIncompleteMultipartUpload cannot be specified with Tags.")
        }
        if node.child("Transition") != nil || node.child("NoncurrentVersionTransition") != nil {
            throw S3Error.notImplemented("Lifecycle transitions")
        }
        if expiredMarker != nil, !tags.isEmpty {
            throw S3Error.invalidRequest("ExpiredObjectDeleteMarker cannot be specified with object tags.")
        }
        var expirationDate: Date?
        if let text = node.child("Expiration")?.child("Date")?.text.trimmingCharacters(in: .whitespacesAndNewlines) {
            guard let date = Self.lifecycleDate(text) else {
                throw S3Error.invalidArgument("'Date' must be at midnight GMT, in ISO 8601 (2026-01-01T00:00:00Z)")
            }
            expirationDate = date
        }
        let rule = LifecycleRule(
            id: node.child("ID")?.text, enabled: status == "Enabled", prefix: prefix, tags: tags.isEmpty ? nil : tags,
            expirationDays: try days(node.child("Expiration")?.child("Days")?.text, "Expiration Days"),
            expirationDate: expirationDate,
            abortIncompleteUploadDays: try days(
                node.child("AbortIncompleteMultipartUpload")?.child("DaysAfterInitiation")?.text, "DaysAfterInitiation"
            ),
            noncurrentDays: try days(noncurrent?.child("NoncurrentDays")?.text, "NoncurrentDays"),
            newerNoncurrentVersions: try days(
                noncurrent?.child("NewerNoncurrentVersions")?.text, "NewerNoncurrentVersions"),
            expiredObjectDeleteMarker: expiredMarker.map { $0 == "true" }
        )
        if noncurrent != nil, rule.noncurrentDays == nil {
            throw S3Error.malformedXML("a NoncurrentVersionExpiration needs NoncurrentDays")
        }
        guard [rule.expirationDays != nil, rule.expirationDate != nil, expiredMarker != nil].filter({ $0 }).count <= 1
        else {
            throw S3Error.malformedXML("an Expiration has one of Days, Date or ExpiredObjectDeleteMarker")
        }
        guard
            rule.expirationDays != nil || rule.expirationDate != nil || rule.abortIncompleteUploadDays != nil
                || rule.noncurrentDays != nil || rule.expiredObjectDeleteMarker != nil
        else {
            throw S3Error.malformedXML(
                "a Rule needs an Expiration, a NoncurrentVersionExpiration or an AbortIncompleteMultipartUpload")
        }
        return rule
    }

    /// A lifecycle `Date`: ISO 8601 at midnight GMT, with or without fractional seconds, as S3 requires.
    static func lifecycleDate(_ text: String) -> Date? {
        let date =
            (try? Date(text, strategy: .iso8601))
            ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        guard let date, Int(date.timeIntervalSince1970) % 86400 == 0 else { return nil }
        return date
    }

    func getBucketLifecycle(_ s3: S3Request, bucket: String) async throws -> Response {
        guard let rules = try await metadata.lifecycle(bucket: bucket) else {
            throw S3Error(
                "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", status: .notFound,
                resource: bucket
            )
        }
        let xml = XMLWriter()
        xml.element("LifecycleConfiguration", namespace: true) {
            for rule in rules {
                xml.element("Rule") {
                    if let id = rule.id { xml.element("ID", id) }
                    xml.element("Filter") {
                        let tags = rule.tags ?? []
                        func tagElements() {
                            for tag in tags {
                                xml.element("Tag") {
                                    xml.element("Key", tag.key)
                                    xml.element("Value", tag.value)
                                }
                            }
                        }
                        if tags.isEmpty {
                            xml.element("Prefix", rule.prefix)
                        } else if tags.count == 1 && rule.prefix.isEmpty {
                            tagElements()
                        } else {
                            xml.element("And") {
                                if !rule.prefix.isEmpty { xml.element("Prefix", rule.prefix) }
                                tagElements()
                            }
                        }
                    }
                    xml.element("Status", rule.enabled ? "Enabled" : "Disabled")
                    if let days = rule.expirationDays {
                        xml.element("Expiration") { xml.element("Days", String(days)) }
                    }
                    if let date = rule.expirationDate {
                        xml.element("Expiration") { xml.element("Date", S3Format.iso8601(date)) }
                    }
                    if let marker = rule.expiredObjectDeleteMarker {
                        xml.element("Expiration") {
                            xml.element("ExpiredObjectDeleteMarker", marker ? "true" : "false")
                        }
                    }
                    if let days = rule.noncurrentDays {
                        xml.element("NoncurrentVersionExpiration") {
                            xml.element("NoncurrentDays", String(days))
                            if let newer = rule.newerNoncurrentVersions {
                                xml.element("NewerNoncurrentVersions", String(newer))
                            }
                        }
                    }
                    if let days = rule.abortIncompleteUploadDays {
                        xml.element("AbortIncompleteMultipartUpload") {
                            xml.element("DaysAfterInitiation", String(days))
                        }
                    }
                }
            }
        }
        return xmlResponse(xml)
    }

    func deleteBucketLifecycle(_ s3: S3Request, bucket: String) async throws -> Response {
        try await metadata.deleteLifecycle(bucket: bucket)
        return emptyResponse(.noContent)
    }
}
