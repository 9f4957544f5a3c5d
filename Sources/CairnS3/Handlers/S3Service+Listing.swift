import CairnCore
import CairnSigV4
import Foundation
import Hummingbird

extension S3Service {
    /// ListObjectsV2 (`list-type=2`) and ListObjects (v1), keys in UTF-8 binary order.
    func listObjects(_ s3: S3Request, bucket: String, version2: Bool) async throws -> Response {
        let (prefix, delimiter, maxKeys, urlEncoding) = try Self.listingParameters(s3)
        var lowerBound: [UInt8]?
        if version2 {
            if let token = s3.query("continuation-token") {
                guard let bytes = Data(base64Encoded: token) else {
                    throw S3Error.invalidArgument("The continuation token provided is incorrect")
                }
                lowerBound = Array(bytes)
            } else if let startAfter = s3.query("start-after") {
                lowerBound = Array(startAfter.utf8) + [0]
            }
        } else if let marker = s3.query("marker") {
            lowerBound = Self.listingStart(afterMarker: marker, prefix: prefix, delimiter: delimiter)
        }
        let listing: ObjectListing
        if maxKeys == 0 {
            guard try await metadata.bucket(bucket) != nil else { throw S3Error.noSuchBucket(bucket) }
            listing = ObjectListing(entries: [], isTruncated: false, resumeAt: nil, lastName: nil)
        } else {
            listing = try await metadata.listObjects(
                bucket: bucket, prefix: prefix, delimiter: delimiter, from: lowerBound, maxKeys: maxKeys
            )
        }
        let encode: (String) -> String = { urlEncoding ? SigV4.uriEncode($0, keepSlash: true) : $0 }
        let fetchOwner = !version2 || s3.query("fetch-owner") == "true"
        let xml = XMLWriter()
        xml.element("ListBucketResult", namespace: true) {
            xml.element("Name", bucket)
            // botocore decodes v2's Prefix but not v1's, and S3 sends v1's as it was asked.
            xml.element("Prefix", version2 ? encode(prefix) : prefix)
            if version2 {
                if let token = s3.query("continuation-token") { xml.element("ContinuationToken", token) }
                if let startAfter = s3.query("start-after") { xml.element("StartAfter", encode(startAfter)) }
                xml.element("KeyCount", String(listing.entries.count))
            } else {
                xml.element("Marker", encode(s3.query("marker") ?? ""))
            }
            xml.element("MaxKeys", String(maxKeys))
            if let delimiter { xml.element("Delimiter", encode(delimiter)) }
            if urlEncoding { xml.element("EncodingType", "url") }
            xml.element("IsTruncated", listing.isTruncated ? "true" : "false")
            if listing.isTruncated {
                if version2, let resume = listing.resumeAt {
                    xml.element("NextContinuationToken", Data(resume).base64EncodedString())
                } else if !version2, delimiter != nil, let last = listing.lastName {
                    xml.element("NextMarker", encode(last))
                }
            }
            for entry in listing.entries {
                switch entry {
                case .object(let object):
                    xml.element("Contents") {
                        xml.element("Key", encode(object.key))
                        xml.element("LastModified", S3Format.iso8601(object.createdAt))
                        xml.element("ETag", S3Format.quoted(object.etag))
                        xml.element("Size", String(object.size))
                        xml.element("StorageClass", "STANDARD")
                        if let checksum = object.checksum {
                            xml.element("ChecksumAlgorithm", checksum.algorithm.rawValue)
                        }
                        if fetchOwner {
                            ownerElement(xml, "Owner")
                        }
                    }
                case .commonPrefix:
                    break
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

    /// What every listing reads of its query: `prefix`, `delimiter` (nil when empty), `max-keys` (at most 1000)
    /// and whether `encoding-type=url` asks for URL-encoded names.
    static func listingParameters(_ s3: S3Request) throws -> (
        prefix: String, delimiter: String?, maxKeys: Int, urlEncoding: Bool
    ) {
        let prefix = s3.query("prefix") ?? ""
        let delimiter = s3.query("delimiter").flatMap { $0.isEmpty ? nil : $0 }
        let maxKeys = try s3.intQuery("max-keys", default: 1000, range: 0...1000)
        switch s3.query("encoding-type") {
        case nil: return (prefix, delimiter, maxKeys, false)
        case "url": return (prefix, delimiter, maxKeys, true)
        case let other?: throw S3Error.invalidArgument("Invalid Encoding Method specified in Request: \(other)")
        }
    }

    /// Where a v1 listing resumes after `marker`: just past it, or — when the marker lies in a common prefix, as the
    /// NextMarker of a page that ended on one does — past every key of that prefix, which was already returned whole.
    static func listingStart(afterMarker marker: String, prefix: String, delimiter: String?) -> [UInt8] {
        let next = Array(marker.utf8) + [0]
        guard let delimiter, marker.hasPrefix(prefix) else { return next }
        let rest = marker.utf8.dropFirst(prefix.utf8.count)
        guard let range = String(Substring(rest)).range(of: delimiter) else { return next }
        let common = prefix + String(String(Substring(rest))[..<range.upperBound])
        return ObjectListing.successor(ofPrefix: Array(common.utf8)) ?? next
    }
}
