import CairnCore
import CairnSigV4
import Foundation
import HTTPTypes
import Hummingbird

extension S3Service {
    static let versionIDHeader = HTTPField.Name("x-amz-version-id")!
    static let deleteMarkerHeader = HTTPField.Name("x-amz-delete-marker")!

    /// The version id a new object (or delete marker) of a bucket gets: a new one while versioning is enabled,
    /// `null` otherwise.
    static func newVersionID(in bucket: BucketInfo) -> String {
        bucket.versioning == .enabled ? ObjectVersion.newVersionID() : ObjectInfo.nullVersionID
    }

    /// `x-amz-version-id` of a version, for an answer about it; none for the `null` version.
    static func versionHeaders(_ object: ObjectInfo) -> HTTPFields {
        var headers = HTTPFields()
        if object.versionID != ObjectInfo.nullVersionID { headers[versionIDHeader] = object.versionID }
        return headers
    }

    /// The bucket, which must exist.
    func existingBucket(_ name: String) async throws -> BucketInfo {
        guard let bucket = try await metadata.bucket(name) else { throw S3Error.noSuchBucket(name) }
        return bucket
    }

    /// The object version a read names: `?versionId=` or the current one. A key whose latest version is a delete
    /// marker is NoSuchKey with `x-amz-delete-marker: true`; a delete marker named by id is 405, as S3 answers.
    func readableObject(_ s3: S3Request, bucket: String, key: String) async throws -> ObjectInfo {
        if let versionID = s3.query("versionId") {
            guard let version = try await metadata.objectVersion(bucket: bucket, key: key, versionID: versionID) else {
                throw S3Error(
                    "NoSuchVersion", "The specified version does not exist.", status: .notFound, resource: versionID)
            }
            if version.isDeleteMarker {
                var error = S3Error(
                    "MethodNotAllowed", "The specified method is not allowed against this resource.",
                    status: .methodNotAllowed, resource: key)
                error.headers += [(Self.deleteMarkerHeader, "true"), (Self.versionIDHeader, versionID)]
                throw error
            }
            return version.object
        }
        if let object = try await metadata.object(bucket: bucket, key: key) { return object }
        let info = try await existingBucket(bucket)
        var error = S3Error.noSuchKey(key)
        if info.versioning != nil,
            let latest = try await metadata.objectVersion(bucket: bucket, key: key, versionID: nil),
            latest.isDeleteMarker
        {
            error.headers += [(Self.deleteMarkerHeader, "true"), (Self.versionIDHeader, latest.versionID)]
        }
        throw error
    }

    // MARK: Bucket versioning

    /// PutBucketVersioning: `Enabled` or `Suspended` (a bucket with object lock cannot be suspended).
    func putBucketVersioning(_ s3: S3Request, bucket: String) async throws -> Response {
        _ = try await existingBucket(bucket)
        let root = try XMLNode.parse(try await receiver.receiveSmall(s3, limit: 64 * 1024))
        guard root.name == "VersioningConfiguration" else {
            throw S3Error.malformedXML("expected VersioningConfiguration, found \(root.name)")
        }
        if let mfa = root.child("MfaDelete")?.text, mfa == "Enabled" {
            throw S3Error.notImplemented("MFA delete")
        }
        guard let text = root.child("Status")?.text, let status = VersioningStatus(rawValue: text) else {
            throw S3Error.malformedXML("Status must be Enabled or Suspended")
        }
        if status == .suspended, try await objectLockConfiguration(bucket) != nil {
            throw S3Error(
                "InvalidBucketState",
                "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
                status: .conflict, resource: bucket)
        }
        try await metadata.setBucketVersioning(bucket: bucket, status: status)
        return emptyResponse()
    }

    /// GetBucketVersioning: the state, or an empty configuration for a bucket that never had versioning.
    func getBucketVersioning(_ s3: S3Request, bucket: String) async throws -> Response {
        let info = try await existingBucket(bucket)
        let xml = XMLWriter()
        xml.element("VersioningConfiguration", namespace: true) {
            if let status = info.versioning { xml.element("Status", status.rawValue) }
        }
        return xmlResponse(xml)
    }

    // MARK: Deletes

    /// What deleting a key or a version did, for DeleteObject's headers and DeleteObjects' entries.
    struct DeleteOutcome {
        /// The version deleted for good (a request naming a version).
        var versionID: String?
        /// Whether a delete marker was made, or the version deleted was one.
        var deleteMarker = false
        /// The delete marker's version id.
        var deleteMarkerVersionID: String?

        var headers: HTTPFields {
            var headers = HTTPFields()
            if deleteMarker { headers[S3Service.deleteMarkerHeader] = "true" }
            if let id = versionID ?? deleteMarkerVersionID { headers[S3Service.versionIDHeader] = id }
            return headers
        }
    }

    /// Deletes `versionID` of a key for good, or — with none — the key: in a bucket with versioning that adds a
    /// delete marker, otherwise it deletes the object.
    func delete(_ s3: S3Request, bucket: String, key: String, versionID: String?) async throws -> DeleteOutcome {
        if let versionID {
            let bypass = s3.header("x-amz-bypass-governance-retention")?.lowercased() == "true"
            let deleted = try await metadata.deleteObjectVersion(
                bucket: bucket, key: key, versionID: versionID, bypassGovernance: bypass, at: Date())
            let marker = deleted?.isDeleteMarker == true
            return DeleteOutcome(
                versionID: versionID, deleteMarker: marker, deleteMarkerVersionID: marker ? versionID : nil)
        }
        let info = try await existingBucket(bucket)
        guard info.versioning != nil else {
            try await metadata.deleteObject(bucket: bucket, key: key)
            return DeleteOutcome()
        }
        let marker = try await metadata.putDeleteMarker(
            bucket: bucket, key: key, versionID: Self.newVersionID(in: info), at: Date())
        return DeleteOutcome(versionID: nil, deleteMarker: true, deleteMarkerVersionID: marker.versionID)
    }

    // MARK: Listing

    /// ListObjectVersions (`GET ?versions`): versions and delete markers by key, each key's newest first.
    func listObjectVersions(_ s3: S3Request, bucket: String) async throws -> Response {
        let (prefix, delimiter, maxKeys, urlEncoding) = try Self.listingParameters(s3)
        let keyMarker = s3.query("key-marker")
        let versionIDMarker = s3.query("version-id-marker")
        if versionIDMarker?.isEmpty == false && keyMarker?.isEmpty != false {
            throw S3Error.invalidArgument("A version-id marker cannot be specified without a key marker.")
        }
        let listing: VersionListing
        if maxKeys == 0 {
            _ = try await existingBucket(bucket)
            listing = VersionListing(entries: [], isTruncated: false, nextKeyMarker: nil, nextVersionIDMarker: nil)
        } else {
            do {
                listing = try await metadata.listObjectVersions(
                    bucket: bucket, prefix: prefix, delimiter: delimiter, keyMarker: keyMarker,
                    versionIDMarker: versionIDMarker, maxKeys: maxKeys)
            } catch MetadataError.noSuchVersion {
                throw S3Error.invalidArgument("Invalid version id specified")
            }
        }
        let encode: (String) -> String = { urlEncoding ? SigV4.uriEncode($0, keepSlash: true) : $0 }
        let xml = XMLWriter()
        xml.element("ListVersionsResult", namespace: true) {
            xml.element("Name", bucket)
            xml.element("Prefix", encode(prefix))
            xml.element("KeyMarker", encode(keyMarker ?? ""))
            xml.element("VersionIdMarker", versionIDMarker ?? "")
            if listing.isTruncated {
                if let next = listing.nextKeyMarker { xml.element("NextKeyMarker", encode(next)) }
                if let next = listing.nextVersionIDMarker { xml.element("NextVersionIdMarker", next) }
            }
            xml.element("MaxKeys", String(maxKeys))
            if let delimiter { xml.element("Delimiter", encode(delimiter)) }
            if urlEncoding { xml.element("EncodingType", "url") }
            xml.element("IsTruncated", listing.isTruncated ? "true" : "false")
            for entry in listing.entries {
                guard case .version(let version) = entry else { continue }
                let object = version.object
                xml.element(version.isDeleteMarker ? "DeleteMarker" : "Version") {
                    xml.element("Key", encode(object.key))
                    xml.element("VersionId", object.versionID)
                    xml.element("IsLatest", version.isLatest ? "true" : "false")
                    xml.element("LastModified", S3Format.iso8601(object.createdAt))
                    if !version.isDeleteMarker {
                        xml.element("ETag", S3Format.quoted(object.etag))
                        xml.element("Size", String(object.size))
                        xml.element("StorageClass", "STANDARD")
                        if let checksum = object.checksum {
                            xml.element("ChecksumAlgorithm", checksum.algorithm.rawValue)
                        }
                    }
                    ownerElement(xml, "Owner")
                }
            }
            for entry in listing.entries {
                if case .commonPrefix(let name) = entry {
                    xml.element("CommonPrefixes") { xml.element("Prefix", encode(name)) }
                }
            }
        }
        return xmlResponse(xml)
    }
}
