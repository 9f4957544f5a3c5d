import Foundation

/// A stretch of an object's content held in one blob.
public struct BlobSegment: Sendable, Hashable, Codable {
    /// The blob.
    public var digest: BlobDigest
    /// The blob's size in bytes.
    public var size: Int64

    public init(digest: BlobDigest, size: Int64) {
        self.digest = digest
        self.size = size
    }
}

extension [BlobSegment] {
    /// The pieces of these segments, laid end to end, that `range` of their content covers: each segment's blob
    /// with the range within that blob, in order, empty overlaps left out.
    public func pieces(in range: Range<Int64>) -> [(digest: BlobDigest, range: Range<Int64>)] {
        var pieces: [(digest: BlobDigest, range: Range<Int64>)] = []
        var start: Int64 = 0
        for segment in self {
            let overlap = (start..<(start + segment.size)).clamped(to: range)
            if !overlap.isEmpty {
                pieces.append((segment.digest, (overlap.lowerBound - start)..<(overlap.upperBound - start)))
            }
            start += segment.size
        }
        return pieces
    }
}

/// A checksum an S3 client declared (and the server verified) for an object or a part.
public struct StoredChecksum: Sendable, Hashable, Codable {
    /// The algorithm.
    public var algorithm: ChecksumAlgorithm
    /// The base64 value; for a multipart object, S3's composite form `<base64>-<parts>`.
    public var value: String

    public init(algorithm: ChecksumAlgorithm, value: String) {
        self.algorithm = algorithm
        self.value = value
    }
}

/// The HTTP headers S3 keeps with an object and returns on GET and HEAD.
public struct ObjectHeaders: Sendable, Hashable, Codable {
    public var contentType: String?
    public var contentEncoding: String?
    public var cacheControl: String?
    public var contentDisposition: String?
    public var contentLanguage: String?
    public var expires: String?
    /// `x-amz-meta-*` values by lowercase name without the prefix.
    public var userMetadata: [String: String]
    /// The object's tag set (S3 object tagging); nil or empty when it has none. Optional so that rows written
    /// before tagging existed decode unchanged.
    public var tags: [ObjectTag]?
    /// The version's object lock retention (S3 object lock); nil when it has none.
    public var retention: ObjectRetention?
    /// Whether the version is under an object lock legal hold; nil or false when it is not.
    public var legalHold: Bool?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, cacheControl: String? = nil,
        contentDisposition: String? = nil, contentLanguage: String? = nil, expires: String? = nil,
        userMetadata: [String: String] = [:], tags: [ObjectTag]? = nil, retention: ObjectRetention? = nil,
        legalHold: Bool? = nil
    ) {
        self.tags = tags
        self.retention = retention
        self.legalHold = legalHold
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.cacheControl = cacheControl
        self.contentDisposition = contentDisposition
        self.contentLanguage = contentLanguage
        self.expires = expires
        self.userMetadata = userMetadata
    }
}

/// An S3 object: a key in a bucket naming the blobs that hold its bytes, in order.
public struct ObjectInfo: Sendable, Hashable {
    public var bucket: String
    public var key: String
    public var size: Int64
    /// The ETag without quotes: the MD5 hex, or `<md5 of md5s>-<parts>` for a multipart object.
    public var etag: String
    public var headers: ObjectHeaders
    public var checksum: StoredChecksum?
    /// The number of parts of a multipart object; nil for a single PUT.
    public var partCount: Int?
    public var createdAt: Date
    /// The blobs, in order; their sizes add up to `size`.
    public var segments: [BlobSegment]
    /// The version id: `null` in a bucket that never had versioning, and for what is written while it is
    /// suspended. Writing an object whose version id differs from the current one's keeps the current one as a
    /// noncurrent version; writing the same id replaces it.
    public var versionID: String

    public init(
        bucket: String, key: String, size: Int64, etag: String, headers: ObjectHeaders, checksum: StoredChecksum?,
        partCount: Int?, createdAt: Date, segments: [BlobSegment], versionID: String = ObjectInfo.nullVersionID
    ) {
        self.versionID = versionID
        self.bucket = bucket
        self.key = key
        self.size = size
        self.etag = etag
        self.headers = headers
        self.checksum = checksum
        self.partCount = partCount
        self.createdAt = createdAt
        self.segments = segments
    }
}

extension ObjectInfo {
    /// The version id of the one version a bucket without versioning keeps (S3's `null` version).
    public static let nullVersionID = "null"
}

/// A bucket.
public struct BucketInfo: Sendable, Hashable {
    public var name: String
    public var createdAt: Date
    public var region: String
    /// Its versioning state; nil when versioning was never enabled.
    public var versioning: VersioningStatus?

    public init(name: String, createdAt: Date, region: String, versioning: VersioningStatus? = nil) {
        self.versioning = versioning
        self.name = name
        self.createdAt = createdAt
        self.region = region
    }
}

/// A multipart upload in progress.
public struct UploadInfo: Sendable, Hashable {
    public var uploadID: String
    public var bucket: String
    public var key: String
    public var headers: ObjectHeaders
    public var checksumAlgorithm: ChecksumAlgorithm?
    public var createdAt: Date

    public init(
        uploadID: String, bucket: String, key: String, headers: ObjectHeaders, checksumAlgorithm: ChecksumAlgorithm?,
        createdAt: Date
    ) {
        self.uploadID = uploadID
        self.bucket = bucket
        self.key = key
        self.headers = headers
        self.checksumAlgorithm = checksumAlgorithm
        self.createdAt = createdAt
    }
}

/// One uploaded part of a multipart upload.
public struct PartInfo: Sendable, Hashable {
    public var partNumber: Int
    public var segment: BlobSegment
    /// The part's MD5 hex, without quotes.
    public var etag: String
    public var checksum: StoredChecksum?
    public var createdAt: Date

    public init(partNumber: Int, segment: BlobSegment, etag: String, checksum: StoredChecksum?, createdAt: Date) {
        self.partNumber = partNumber
        self.segment = segment
        self.etag = etag
        self.checksum = checksum
        self.createdAt = createdAt
    }
}

/// One page of a listing: objects and common prefixes in key order.
public struct ObjectListing: Sendable {
    public enum Entry: Sendable {
        case object(ObjectInfo)
        case commonPrefix(String)
    }

    public var entries: [Entry]
    public var isTruncated: Bool
    /// Where the next page starts (inclusive), as raw key bytes; set when truncated.
    public var resumeAt: [UInt8]?
    /// The last key or prefix on this page (S3's NextMarker).
    public var lastName: String?

    public init(entries: [Entry], isTruncated: Bool, resumeAt: [UInt8]?, lastName: String?) {
        self.entries = entries
        self.isTruncated = isTruncated
        self.resumeAt = resumeAt
        self.lastName = lastName
    }

    /// The smallest byte string greater than every string that starts with `prefix`: where a listing resumes after
    /// a common prefix. Nil when there is none (the prefix is all 0xFF bytes).
    public static func successor(ofPrefix prefix: [UInt8]) -> [UInt8]? {
        var bytes = prefix
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return nil
    }
}
