/// The paths of the runner API on a Cairn server, under `/_cairn/`, which can never be an S3 bucket's name.
public enum RunnerAPIPath: Sendable {
    /// `POST` a ``BlobListRequest``; the answer is a ``MissingBlobsResponse``.
    public static let missing = "/_cairn/cas/missing"
    /// `POST` a ``BlobListRequest``; the answer is the blobs, each a ``BlobFrame``.
    public static let read = "/_cairn/cas/read"
    /// `PUT|GET|HEAD <blobs>/<sha256>`: one blob.
    public static let blobs = "/_cairn/cas"
    /// `PUT|GET|DELETE <entries>/<namespace>/<key>`, each segment percent-encoded: an ``ActionEntryBody``.
    public static let entries = "/_cairn/ac"
    /// `POST` a ``BuildOutcomeReport`` when a build ends.
    public static let builds = "/_cairn/runner/builds"

    /// The path of one blob.
    public static func blob(_ digest: BlobDigest) -> String { "\(blobs)/\(digest.hex)" }
}
