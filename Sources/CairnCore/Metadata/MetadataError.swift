/// A metadata operation refused because of the state of the store, named so the S3 layer can map it to S3's codes.
public enum MetadataError: Error, Sendable, Equatable {
    case noSuchBucket(String)
    case bucketAlreadyExists(String)
    case bucketNotEmpty(String)
    case noSuchKey(bucket: String, key: String)
    case noSuchUpload(String)
    /// A conditional write found the key present (`If-None-Match: *`) or with another ETag (`If-Match`).
    case preconditionFailed
    /// CompleteMultipartUpload named a part that was never uploaded, or with another ETag.
    case invalidPart(Int)
    /// CompleteMultipartUpload listed parts out of ascending order.
    case invalidPartOrder
    /// A part other than the last is smaller than the minimum part size.
    case entityTooSmall(partNumber: Int)
    /// A blob to be referenced was swept by retention between its upload and this write; the client should retry.
    case blobMissing(BlobDigest)
    /// The version named does not exist (or is not of that key).
    case noSuchVersion(bucket: String, key: String, versionID: String)
    /// The version is protected by object lock (a retention date not yet passed, or a legal hold) and may not be
    /// deleted.
    case objectLocked(bucket: String, key: String, versionID: String)
}
