import CairnCore
import Foundation

/// A bucket's object lock configuration, as stored (JSON, kind `object-lock`): whether object lock is enabled and
/// the retention a new object version gets when its request names none.
struct ObjectLockConfiguration: Codable, Sendable, Equatable {
    var enabled: Bool
    var defaultMode: ObjectLockMode?
    var defaultDays: Int?
    var defaultYears: Int?

    /// The default retention of a version written at `date`; nil when the configuration has no default.
    func defaultRetention(from date: Date) -> ObjectRetention? {
        guard let defaultMode else { return nil }
        let days = Double(defaultDays ?? 0) + Double(defaultYears ?? 0) * 365
        return ObjectRetention(mode: defaultMode, retainUntil: date.addingTimeInterval(days * 86400))
    }
}
