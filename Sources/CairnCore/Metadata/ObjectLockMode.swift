/// S3 object lock's retention modes.
public enum ObjectLockMode: String, Sendable, Hashable, Codable {
    /// Nobody may delete the version or shorten its retention, except with
    /// `x-amz-bypass-governance-retention: true`.
    case governance = "GOVERNANCE"
    /// Nobody may delete the version or shorten its retention until the date passes.
    case compliance = "COMPLIANCE"
}
