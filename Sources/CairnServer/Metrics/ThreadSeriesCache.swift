import NIOPosix

/// The request series a thread used last, so that a request usually finds its series by comparing a few labels on
/// its own thread, without the series table's lock (which every thread would otherwise take for every request,
/// pulling its cache line from the other cores) or hashing the labels.
///
/// `@unchecked Sendable`: each instance is reached only through ``current``, a thread-specific variable, so only
/// the thread it belongs to ever reads or writes it.
final class ThreadSeriesCache: @unchecked Sendable {
    private struct Entry {
        let owner: Int
        let labels: RequestLabels
        let status: Int
        let series: ServerMetrics.RequestSeries
    }

    /// Enough for the few kinds of request one thread serves at a time; the oldest entry makes room.
    static let capacity = 8

    private var entries: [Entry] = []
    private var next = 0

    /// The series `owner` made for these labels and status, if this thread has used it recently.
    func series(owner: Int, _ labels: RequestLabels, status: Int) -> ServerMetrics.RequestSeries? {
        for entry in entries where entry.status == status && entry.owner == owner && entry.labels == labels {
            return entry.series
        }
        return nil
    }

    func remember(owner: Int, _ labels: RequestLabels, status: Int, _ series: ServerMetrics.RequestSeries) {
        let entry = Entry(owner: owner, labels: labels, status: status, series: series)
        if entries.count < Self.capacity {
            entries.append(entry)
        } else {
            entries[next] = entry
            next = (next + 1) % Self.capacity
        }
    }

    private static let variable = ThreadSpecificVariable<ThreadSeriesCache>()

    /// This thread's cache.
    static var current: ThreadSeriesCache {
        if let cache = variable.currentValue { return cache }
        let cache = ThreadSeriesCache()
        variable.currentValue = cache
        return cache
    }
}
