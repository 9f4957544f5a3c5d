/// One target of the issue, checked against the medians: a ratio (Cairn over a peer or a limit) or an absolute
/// bound.
struct TargetCheck: Codable, Sendable {
    /// What the target says, e.g. `1 GiB PUT ≥ 0.8 × nginx WebDAV PUT`.
    var target: String
    /// The measured value: a ratio, or the figure itself for an absolute bound.
    var measured: Double?
    /// The bound the measured value is compared with.
    var required: Double
    /// Whether the bound is a minimum (`≥`) or a maximum (`≤` / `<`).
    var isMinimum: Bool
    /// How the measured value was computed, e.g. `cairn 612 MB/s / nginx 701 MB/s`.
    var detail: String
    /// Nil when a side of the ratio was not measured (a peer missing).
    var met: Bool? {
        guard let measured, measured.isFinite else { return nil }
        return isMinimum ? measured >= required : measured <= required
    }
}
