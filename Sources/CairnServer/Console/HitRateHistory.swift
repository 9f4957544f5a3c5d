import CairnCore
import Foundation

/// Cache hits and misses by protocol, sampled once a minute for a day, so the console can chart the hit rate over
/// the last hour and the last day; kept in the metadata store too, so the charts survive a restart.
///
/// Bounded: ``capacity`` samples (by default a day of minutes) in memory and in the store, each a few hundred bytes, plus the
/// one taken when the overview was last shown, which only this process keeps.
actor HitRateHistory {
    /// Counts since a server started, at one time.
    struct Sample: Sendable, Codable {
        let time: Date
        /// The server run the counts belong to: they start from zero again when the server restarts.
        let run: String
        let counts: [String: LookupCounts]
    }

    private var samples: [Sample] = []
    private var lastView: Sample?
    private let store: (any MetadataStore)?
    /// This server run.
    nonisolated let run = SecureRandom.bytes(8).hexString
    /// The most samples kept.
    let capacity: Int
    /// A day of samples a minute apart.
    static let dayOfMinutes = 24 * 60 + 1
    /// The samples' kind in the store's observations.
    static let kind = "console.hit-rate"

    init(store: (any MetadataStore)? = nil, capacity: Int = HitRateHistory.dayOfMinutes) {
        self.store = store
        self.capacity = capacity
    }

    /// Reads the samples of the last day that an earlier run stored.
    func load(now: Date = Date()) async throws {
        guard let store else { return }
        let stored = try await store.observations(
            kind: Self.kind, since: now.addingTimeInterval(-86400), limit: capacity)
        let decoder = JSONDecoder()
        samples = stored.compactMap { try? decoder.decode(Sample.self, from: $0.document) } + samples
        if samples.count > capacity { samples.removeFirst(samples.count - capacity) }
    }

    /// Keeps a minute's sample, here and in the store.
    func record(_ counts: [String: LookupCounts], at time: Date = Date()) async throws {
        let sample = Sample(time: time, run: run, counts: counts)
        samples.append(sample)
        if samples.count > capacity { samples.removeFirst(samples.count - capacity) }
        try await store?.appendObservation(
            kind: Self.kind, document: try JSONEncoder().encode(sample), at: time, keep: capacity)
    }

    /// The samples of the last day, oldest first, ending with one of `counts` now; the overview's view before this
    /// one is among them when it came after the last minute's sample, so two looks a moment apart chart what
    /// happened between them.
    func view(_ counts: [String: LookupCounts], now: Date = Date()) -> [Sample] {
        let current = Sample(time: now, run: run, counts: counts)
        var shown = samples.filter { now.timeIntervalSince($0.time) <= 86400 }
        if let lastView, lastView.time > (shown.last?.time ?? .distantPast),
            now.timeIntervalSince(lastView.time) <= 86400
        {
            shown.append(lastView)
        }
        lastView = current
        return shown + [current]
    }
}
