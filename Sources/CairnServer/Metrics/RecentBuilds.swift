import CairnCore
import Foundation

/// The last builds `cairn build` reported to this server, newest last, for the console; kept in the metadata store
/// too, so they survive a restart.
///
/// Bounded: ``capacity`` reports. A report is stored as JSON of at most ``maximumStoredBytes``; a larger one is
/// stored without its phases' reasons, and kept in memory only if it is still too large.
public actor RecentBuilds {
    private var reports: [BuildOutcomeReport] = []
    let capacity: Int
    private let store: (any MetadataStore)?

    /// The reports' kind in the store's observations.
    static let kind = "console.builds"
    /// The most bytes of JSON one stored report takes.
    static let maximumStoredBytes = 64 * 1024

    public init(capacity: Int = 200, store: (any MetadataStore)? = nil) {
        self.capacity = capacity
        self.store = store
    }

    /// Reads the reports an earlier run stored.
    func load() async throws {
        guard let store else { return }
        let decoder = JSONDecoder()
        let stored = try await store.observations(kind: Self.kind, since: .distantPast, limit: capacity)
        reports = stored.compactMap { try? decoder.decode(BuildOutcomeReport.self, from: $0.document) } + reports
        if reports.count > capacity { reports.removeFirst(reports.count - capacity) }
    }

    /// Keeps a report, here and (when it is small enough) in the store.
    func add(_ report: BuildOutcomeReport, at date: Date = Date()) async throws {
        reports.append(report)
        if reports.count > capacity { reports.removeFirst(reports.count - capacity) }
        guard let store, let document = try Self.storedDocument(report) else { return }
        try await store.appendObservation(kind: Self.kind, document: document, at: date, keep: capacity)
    }

    /// The report's JSON, without its reasons when it is too large with them; nil when it is too large anyway.
    static func storedDocument(_ report: BuildOutcomeReport) throws -> Data? {
        let encoder = JSONEncoder()
        let whole = try encoder.encode(report)
        if whole.count <= maximumStoredBytes { return whole }
        var shortened = report
        for index in shortened.phases.indices where !shortened.phases[index].reasons.isEmpty {
            shortened.phases[index].reasons = [
                "(\(report.phases[index].reasons.count) reasons: the report was too large to keep)"
            ]
        }
        let short = try encoder.encode(shortened)
        return short.count <= maximumStoredBytes ? short : nil
    }

    /// The reports kept, newest last.
    public var all: [BuildOutcomeReport] { reports }
}
