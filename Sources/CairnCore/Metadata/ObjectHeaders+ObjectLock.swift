import Foundation

extension ObjectHeaders {
    /// Whether object lock forbids deleting this version at `date`: a legal hold, or a retention date still
    /// ahead — unless the retention is GOVERNANCE and the caller bypasses it.
    public func isLocked(at date: Date, bypassingGovernance: Bool = false) -> Bool {
        if legalHold == true { return true }
        guard let retention, retention.retainUntil > date else { return false }
        return !(retention.mode == .governance && bypassingGovernance)
    }

    /// The SQL condition (over a row's `headers` JSON column, named by `column`) that holds when object lock
    /// forbids deleting the row at the time given as the statement's next argument
    /// (``lockArgument(at:)``). Retention, size eviction and `cairn gc` never delete a row for which it holds.
    static func lockedCondition(column: String) -> String {
        """
        (COALESCE(json_extract(\(column), '$.legalHold'), 0) = 1
         OR COALESCE(json_extract(\(column), '$.retention.retainUntil'), -1e300) > ?)
        """
    }

    /// The argument of ``lockedCondition(column:)``: dates encode in the headers JSON as seconds since 2001.
    static func lockArgument(at date: Date) -> Double { date.timeIntervalSinceReferenceDate }
}
