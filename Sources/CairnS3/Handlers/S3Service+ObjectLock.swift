import CairnCore
import Foundation
import HTTPTypes
import Hummingbird

/// Object lock: a bucket's configuration and default retention, and each version's retention and legal hold. What
/// a lock forbids (deleting the version) is enforced by the metadata store, for the S3 API and retention alike.
extension S3Service {
    static let objectLockKind = "object-lock"
    static let lockModeHeader = HTTPField.Name("x-amz-object-lock-mode")!
    static let lockUntilHeader = HTTPField.Name("x-amz-object-lock-retain-until-date")!
    static let legalHoldHeader = HTTPField.Name("x-amz-object-lock-legal-hold")!

    /// The bucket's object lock configuration; nil when object lock is not enabled on it.
    func objectLockConfiguration(_ bucket: String) async throws -> ObjectLockConfiguration? {
        try await metadata.bucketConfiguration(bucket: bucket, kind: Self.objectLockKind).map {
            try JSONDecoder().decode(ObjectLockConfiguration.self, from: $0)
        }
    }

    private func setObjectLockConfiguration(_ bucket: String, _ configuration: ObjectLockConfiguration) async throws {
        try await metadata.setBucketConfiguration(
            bucket: bucket, kind: Self.objectLockKind, document: try JSONEncoder().encode(configuration))
    }

    /// CreateBucket with `x-amz-bucket-object-lock-enabled: true`: versioning on, object lock on, no default.
    func enableObjectLock(onNewBucket bucket: String) async throws {
        try await metadata.setBucketVersioning(bucket: bucket, status: .enabled)
        try await setObjectLockConfiguration(bucket, ObjectLockConfiguration(enabled: true))
    }

    static func missingLockConfiguration(_ bucket: String) -> S3Error {
        S3Error(
            "InvalidRequest", "Bucket is missing Object Lock Configuration", status: .badRequest, resource: bucket)
    }

    static func lockDate(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return (try? Date(trimmed, strategy: .iso8601))
            ?? (try? Date(trimmed, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    // MARK: Bucket configuration

    /// PutObjectLockConfiguration: turns object lock on (a bucket with versioning enabled) and sets or clears the
    /// default retention (`Mode` with `Days` or `Years`).
    func putObjectLockConfiguration(_ s3: S3Request, bucket: String) async throws -> Response {
        let info = try await existingBucket(bucket)
        let root = try XMLNode.parse(try await receiver.receiveSmall(s3, limit: 64 * 1024))
        guard root.name == "ObjectLockConfiguration", root.child("ObjectLockEnabled")?.text == "Enabled" else {
            throw S3Error.malformedXML("expected ObjectLockConfiguration with ObjectLockEnabled Enabled")
        }
        if try await objectLockConfiguration(bucket) == nil, info.versioning != .enabled {
            throw S3Error(
                "InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
                status: .conflict, resource: bucket)
        }
        var configuration = ObjectLockConfiguration(enabled: true)
        if let retention = root.child("Rule")?.child("DefaultRetention") {
            guard let text = retention.child("Mode")?.text, let mode = ObjectLockMode(rawValue: text) else {
                throw S3Error.malformedXML("DefaultRetention needs a Mode of GOVERNANCE or COMPLIANCE")
            }
            let days = retention.child("Days").flatMap { Int($0.text) }
            let years = retention.child("Years").flatMap { Int($0.text) }
            guard (days == nil) != (years == nil), (days ?? years ?? 0) > 0 else {
                throw S3Error.malformedXML("DefaultRetention needs a positive Days or Years, not both")
            }
            configuration.defaultMode = mode
            configuration.defaultDays = days
            configuration.defaultYears = years
        }
        try await setObjectLockConfiguration(bucket, configuration)
        return emptyResponse()
    }

    /// GetObjectLockConfiguration.
    func getObjectLockConfiguration(_ s3: S3Request, bucket: String) async throws -> Response {
        _ = try await existingBucket(bucket)
        guard let configuration = try await objectLockConfiguration(bucket) else {
            throw S3Error(
                "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket",
                status: .notFound, resource: bucket)
        }
        let xml = XMLWriter()
        xml.element("ObjectLockConfiguration", namespace: true) {
            xml.element("ObjectLockEnabled", "Enabled")
            if let mode = configuration.defaultMode {
                xml.element("Rule") {
                    xml.element("DefaultRetention") {
                        xml.element("Mode", mode.rawValue)
                        if let days = configuration.defaultDays { xml.element("Days", String(days)) }
                        if let years = configuration.defaultYears { xml.element("Years", String(years)) }
                    }
                }
            }
        }
        return xmlResponse(xml)
    }

    // MARK: On writes

    /// The lock a new version gets: the request's `x-amz-object-lock-*` headers, or the bucket's default
    /// retention. A lock asked of a bucket without object lock is refused.
    func requestLock(_ s3: S3Request, bucket: BucketInfo, at date: Date) async throws -> (ObjectRetention?, Bool?) {
        let mode = s3.header(Self.lockModeHeader)
        let until = s3.header(Self.lockUntilHeader)
        let hold = s3.header(Self.legalHoldHeader)
        let asked = mode != nil || until != nil || hold != nil
        // Object lock implies versioning: a bucket without it is not read for a configuration on every write.
        guard asked || bucket.versioning == .enabled else { return (nil, nil) }
        guard let configuration = try await objectLockConfiguration(bucket.name) else {
            if asked { throw Self.missingLockConfiguration(bucket.name) }
            return (nil, nil)
        }
        var retention = configuration.defaultRetention(from: date)
        if mode != nil || until != nil {
            guard let mode, let lockMode = ObjectLockMode(rawValue: mode.uppercased()) else {
                throw S3Error.invalidArgument(
                    "x-amz-object-lock-mode and x-amz-object-lock-retain-until-date must both be supplied, the mode GOVERNANCE or COMPLIANCE"
                )
            }
            guard let until, let untilDate = Self.lockDate(until) else {
                throw S3Error.invalidArgument(
                    "x-amz-object-lock-retain-until-date must be supplied with the mode, as an ISO 8601 date")
            }
            guard untilDate > date else {
                throw S3Error.invalidArgument("The retain until date must be in the future!")
            }
            retention = ObjectRetention(mode: lockMode, retainUntil: untilDate)
        }
        var legalHold: Bool?
        if let hold {
            guard hold == "ON" || hold == "OFF" else {
                throw S3Error.invalidArgument("x-amz-object-lock-legal-hold must be ON or OFF")
            }
            legalHold = hold == "ON" ? true : nil
        }
        return (retention, legalHold)
    }

    /// The `x-amz-object-lock-*` headers a read of a locked version returns.
    static func lockHeaders(of headers: ObjectHeaders, into fields: inout HTTPFields) {
        if let retention = headers.retention {
            fields[lockModeHeader] = retention.mode.rawValue
            fields[lockUntilHeader] = S3Format.iso8601(retention.retainUntil)
        }
        if let hold = headers.legalHold { fields[legalHoldHeader] = hold ? "ON" : "OFF" }
    }

    // MARK: Per-version retention and legal hold

    /// PutObjectRetention: sets a version's retention. Lengthening is always allowed; shortening or removing a
    /// GOVERNANCE retention needs `x-amz-bypass-governance-retention: true`; a COMPLIANCE retention can only be
    /// lengthened until its date has passed.
    func putObjectRetention(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        guard try await objectLockConfiguration(bucket) != nil else { throw Self.missingLockConfiguration(bucket) }
        let root = try XMLNode.parse(try await receiver.receiveSmall(s3, limit: 64 * 1024))
        guard root.name == "Retention" else { throw S3Error.malformedXML("expected Retention, found \(root.name)") }
        let requested = try Self.retention(root)
        let now = Date()
        if let requested, requested.retainUntil <= now {
            throw S3Error.invalidArgument("The retain until date must be in the future!")
        }
        let bypass = s3.header("x-amz-bypass-governance-retention")?.lowercased() == "true"
        let object = try await metadata.updateObjectHeaders(
            bucket: bucket, key: key, versionID: s3.query("versionId")
        ) { headers in
            if let current = headers.retention, current.retainUntil > now {
                let weakened =
                    requested.map { $0.retainUntil < current.retainUntil || $0.mode != current.mode } ?? true
                if weakened && (current.mode == .compliance || !bypass) {
                    throw S3Error.accessDenied(
                        "Access Denied because object protected by object lock: its \(current.mode.rawValue) retention "
                            + "until \(S3Format.iso8601(current.retainUntil)) cannot be shortened or removed"
                            + (current.mode == .governance ? " without x-amz-bypass-governance-retention" : ""))
                }
            }
            headers.retention = requested
        }
        return emptyResponse(headers: Self.versionHeaders(object))
    }

    /// The retention a `Retention` document asks for; nil (no Mode, no date) to remove it.
    private static func retention(_ root: XMLNode) throws -> ObjectRetention? {
        guard root.child("Mode") != nil || root.child("RetainUntilDate") != nil else { return nil }
        guard let text = root.child("Mode")?.text, let mode = ObjectLockMode(rawValue: text),
            let dateText = root.child("RetainUntilDate")?.text, let date = lockDate(dateText)
        else {
            throw S3Error.malformedXML("a Retention has a Mode (GOVERNANCE or COMPLIANCE) and a RetainUntilDate")
        }
        return ObjectRetention(mode: mode, retainUntil: date)
    }

    /// A read of a retention or legal hold the version does not have.
    static func noObjectLock(_ key: String) -> S3Error {
        S3Error(
            "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration",
            status: .notFound, resource: key)
    }

    /// GetObjectRetention.
    func getObjectRetention(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        let object = try await readableObject(s3, bucket: bucket, key: key)
        guard let retention = object.headers.retention else {
            throw Self.noObjectLock(key)
        }
        let xml = XMLWriter()
        xml.element("Retention", namespace: true) {
            xml.element("Mode", retention.mode.rawValue)
            xml.element("RetainUntilDate", S3Format.iso8601(retention.retainUntil))
        }
        return xmlResponse(xml)
    }

    /// PutObjectLegalHold: `ON` protects the version from deletion until it is turned `OFF`.
    func putObjectLegalHold(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        guard try await objectLockConfiguration(bucket) != nil else { throw Self.missingLockConfiguration(bucket) }
        let root = try XMLNode.parse(try await receiver.receiveSmall(s3, limit: 64 * 1024))
        guard root.name == "LegalHold", let status = root.child("Status")?.text, status == "ON" || status == "OFF"
        else {
            throw S3Error.malformedXML("expected LegalHold with Status ON or OFF")
        }
        let hold = status == "ON"
        let object = try await metadata.updateObjectHeaders(
            bucket: bucket, key: key, versionID: s3.query("versionId")
        ) { headers in headers.legalHold = hold }
        return emptyResponse(headers: Self.versionHeaders(object))
    }

    /// GetObjectLegalHold.
    func getObjectLegalHold(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        let object = try await readableObject(s3, bucket: bucket, key: key)
        guard let hold = object.headers.legalHold else {
            throw Self.noObjectLock(key)
        }
        let xml = XMLWriter()
        xml.element("LegalHold", namespace: true) { xml.element("Status", hold ? "ON" : "OFF") }
        return xmlResponse(xml)
    }
}
