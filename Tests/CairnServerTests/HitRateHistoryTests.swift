import CairnCore
import CairnTestSupport
import Foundation
import Testing

@testable import CairnServer

/// The console's hit-rate samples: kept in the metadata store across a restart, charted across it.
@Suite("Hit-rate history")
struct HitRateHistoryTests {
    @Test("samples stored by one run are loaded by the next, and the chart does not subtract across the restart")
    func acrossRestart() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-hit-rates")
        let store = try SQLiteMetadataStore(dataDirectory: directory.path)
        let now = Date()
        let first = HitRateHistory(store: store)
        try await first.record(["ccache": LookupCounts(hits: 10, misses: 10)], at: now.addingTimeInterval(-300))
        try await first.record(["ccache": LookupCounts(hits: 40, misses: 20)], at: now.addingTimeInterval(-240))

        let second = HitRateHistory(store: store)
        try await second.load(now: now)
        // The new run counts from zero: 3 hits and 1 miss since it started.
        let samples = await second.view(["ccache": LookupCounts(hits: 3, misses: 1)], now: now)
        #expect(samples.count == 3)
        #expect(samples.map(\.run).filter { $0 == second.run }.count == 1)
        let chart = HitRateChart(samples: samples, start: now.addingTimeInterval(-3600), end: now)
        let rates = try #require(chart.series.first { $0.name == "ccache" }).points.map(\.rate)
        // 30 hits of 40 lookups in the first run's minute, then the new run's 3 of 4.
        #expect(rates == [0.75, 0.75])

        // Older than a day: not loaded.
        let stale = HitRateHistory(store: store)
        try await stale.load(now: now.addingTimeInterval(2 * 86400))
        #expect(await stale.view([:], now: now.addingTimeInterval(2 * 86400)).count == 1)
    }

    @Test("no more samples than the capacity are kept, in memory or in the store")
    func bounded() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-hit-rates")
        let store = try SQLiteMetadataStore(dataDirectory: directory.path)
        let history = HitRateHistory(store: store, capacity: 5)
        let start = Date().addingTimeInterval(-3600)
        for minute in 0..<12 {
            try await history.record(
                ["s3": LookupCounts(hits: minute)], at: start.addingTimeInterval(Double(minute) * 60))
        }
        let stored = try await store.observations(kind: HitRateHistory.kind, since: .distantPast, limit: 100)
        #expect(stored.count == 5)
        let shown = await history.view([:], now: start.addingTimeInterval(13 * 60))
        #expect(shown.map { $0.counts["s3"]?.hits } == [7, 8, 9, 10, 11, nil])
    }
}
