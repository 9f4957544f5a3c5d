import Foundation

/// Cache hits and misses by protocol, sampled once a minute for a day, so the console can chart the hit rate over
/// the last hour and the last day.
actor HitRateHistory {
    struct Sample: Sendable {
        let time: Date
        let counts: [String: LookupCounts]
    }

    private var samples: [Sample] = []
    /// A day of samples a minute apart.
    let capacity = 24 * 60 + 1

    func record(_ counts: [String: LookupCounts], at time: Date = Date()) {
        samples.append(Sample(time: time, counts: counts))
        if samples.count > capacity { samples.removeFirst(samples.count - capacity) }
    }

    /// The samples within `window` before `now`, oldest first.
    func samples(within window: TimeInterval, now: Date = Date()) -> [Sample] {
        samples.filter { now.timeIntervalSince($0.time) <= window }
    }
}
