import Synchronization

/// Cache hits and misses of one protocol and namespace since the server started, readable in-process (the console's
/// hit rates) as well as through the Prometheus series they mirror.
final class LookupTally: Sendable {
    let hits = Atomic<Int>(0)
    let misses = Atomic<Int>(0)

    func record(_ count: Int = 1, hit: Bool) {
        if hit {
            hits.wrappingAdd(count, ordering: .relaxed)
        } else {
            misses.wrappingAdd(count, ordering: .relaxed)
        }
    }

    /// The counts now.
    var counts: LookupCounts {
        LookupCounts(hits: hits.load(ordering: .relaxed), misses: misses.load(ordering: .relaxed))
    }
}

/// Hits and misses, and the rate they make.
public struct LookupCounts: Sendable, Hashable, Codable {
    public var hits: Int
    public var misses: Int

    public init(hits: Int = 0, misses: Int = 0) {
        self.hits = hits
        self.misses = misses
    }

    /// Hits over lookups, or nil when there were none.
    public var hitRate: Double? { hits + misses == 0 ? nil : Double(hits) / Double(hits + misses) }

    static func + (lhs: LookupCounts, rhs: LookupCounts) -> LookupCounts {
        LookupCounts(hits: lhs.hits + rhs.hits, misses: lhs.misses + rhs.misses)
    }

    static func - (lhs: LookupCounts, rhs: LookupCounts) -> LookupCounts {
        LookupCounts(hits: lhs.hits - rhs.hits, misses: lhs.misses - rhs.misses)
    }
}
