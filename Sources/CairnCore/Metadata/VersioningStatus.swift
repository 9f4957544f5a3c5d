/// A bucket's versioning state as S3 names it; a bucket that never had versioning enabled has none.
///
/// Once enabled, a bucket is Enabled or Suspended for good: it never returns to having none.
public enum VersioningStatus: String, Sendable, Hashable, Codable {
    /// Every write makes a new version with an id of its own; older versions are kept.
    case enabled = "Enabled"
    /// Writes make (and replace) the `null` version; versions made while enabled are kept.
    case suspended = "Suspended"
}
