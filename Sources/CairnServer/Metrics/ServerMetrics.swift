import CairnCore
import CoreMetrics
import Foundation
import Prometheus
import Synchronization

/// The server's Prometheus series, recorded through swift-metrics into a registry of its own (never the process-wide
/// metrics system, so servers in one process keep their numbers apart), and written out by ``exposition()``.
///
/// Recording takes no lock of the stores and touches nothing another thread writes: a request finds its series'
/// slot in its thread's cache of recent ones (on a miss, in a map under one short lock), and records into its
/// thread's ``PendingRequests``, which are replayed into the series every few hundred requests and before the series
/// are read (see ``flushPendingRequests()``). Labels whose values clients choose (bucket and
/// namespace names) are capped at ``maximumNamespaces`` distinct values; later ones are counted as `(other)`.
public final class ServerMetrics: Sendable {
    /// The registry the series live in.
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let series = Mutex(SeriesTable())
    /// Every thread's requests not yet in the series.
    private let pending = Mutex<[PendingRequests]>([])
    let uploadsInFlight: CoreMetrics.Meter
    /// Tells this instance's series apart in the threads' caches; unlike its address, never reused.
    private let identity = ServerMetrics.identities.wrappingAdd(1, ordering: .relaxed).newValue
    private static let identities = Atomic<Int>(0)

    /// The most distinct bucket and namespace names given series of their own.
    static let maximumNamespaces = 500

    /// Request latencies: from half a millisecond to a minute.
    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        factory.durationHistogramBuckets["cairn_retention_duration_seconds"] = [
            .milliseconds(10), .milliseconds(100), .seconds(1), .seconds(10), .seconds(60), .seconds(600),
        ]
        self.factory = factory
        uploadsInFlight = CoreMetrics.Meter(label: "cairn_uploads_in_flight", factory: factory)
    }

    /// The series of one kind of request with one status.
    struct RequestSeries: Sendable {
        let requests: CoreMetrics.Counter
        let firstByte: CoreMetrics.Timer
        let duration: CoreMetrics.Timer
        let received: CoreMetrics.Counter
        let sent: CoreMetrics.Counter
        /// Counts this request as a cache hit or miss, or nil when its status is neither.
        let lookup: CoreMetrics.Counter?
        let tally: LookupTally?
        let isHit: Bool
    }

    /// A protocol and a namespace, for hit counts.
    struct LookupKey: Hashable, Sendable {
        var api: String
        var namespace: String
    }

    private struct SeriesKey: Hashable {
        var labels: RequestLabels
        var status: Int
    }

    private struct SeriesTable {
        /// The slot of each kind of request and status.
        var byKey: [SeriesKey: Int] = [:]
        /// The series of each slot.
        var slots: [RequestSeries] = []
        var namespaces: Set<String> = []
        var tallies: [LookupKey: LookupTally] = [:]
    }

    /// The slot of the series to record a request with; the series are made on first use. Found in the thread's
    /// ``MetricsThreadState`` when it can be, so that most requests take no shared lock here.
    func requestSlot(_ labels: RequestLabels, status: Int, thread: MetricsThreadState = .current) -> Int {
        if let found = thread.slot(owner: identity, labels, status: status) { return found }
        let found = tableSlot(labels, status: status)
        thread.remember(owner: identity, labels, status: status, slot: found)
        return found
    }

    private func tableSlot(_ labels: RequestLabels, status: Int) -> Int {
        let key = SeriesKey(labels: labels, status: status)
        return series.withLock { table in
            if let found = table.byKey[key] { return found }
            var labels = labels
            if !labels.namespace.isEmpty, !table.namespaces.contains(labels.namespace) {
                if table.namespaces.count < Self.maximumNamespaces {
                    table.namespaces.insert(labels.namespace)
                } else {
                    labels.namespace = "(other)"
                }
            }
            var tally: LookupTally?
            if labels.isCacheLookup, (200..<300).contains(status) || status == 404 {
                let lookupKey = LookupKey(api: labels.api, namespace: labels.namespace)
                tally = table.tallies[lookupKey] ?? LookupTally()
                table.tallies[lookupKey] = tally
            }
            table.slots.append(makeSeries(labels, status: status, tally: tally))
            table.byKey[key] = table.slots.count - 1
            return table.slots.count - 1
        }
    }

    /// Records a request when its response head is ready; `duration` when its whole response is known too.
    func recordRequest(
        slot: Int, received: Int64, sent: Int64, firstByteNanoseconds: Int64, durationNanoseconds: Int64?,
        thread: MetricsThreadState = .current
    ) {
        let full = pendingRequests(thread).record(slot: slot) { pending in
            pending.requests += 1
            pending.received += received
            pending.sent += sent
            pending.firstBytes.append(firstByteNanoseconds)
            if let durationNanoseconds { pending.durations.append(durationNanoseconds) }
        }
        if full { flush(pendingRequests(thread)) }
    }

    /// Records the total duration of a request whose response body has ended.
    func recordDuration(slot: Int, nanoseconds: Int64) {
        let thread = MetricsThreadState.current
        if pendingRequests(thread).record(slot: slot, { $0.durations.append(nanoseconds) }) {
            flush(pendingRequests(thread))
        }
    }

    /// Records a request whose whole response is known at once (answered on the event loop).
    func recordWhole(
        _ labels: RequestLabels, status: Int, received: Int64, sent: Int64, nanoseconds: Int64
    ) {
        let thread = MetricsThreadState.current
        recordRequest(
            slot: requestSlot(labels, status: status, thread: thread), received: received, sent: sent,
            firstByteNanoseconds: nanoseconds, durationNanoseconds: nanoseconds, thread: thread)
    }

    private func pendingRequests(_ thread: MetricsThreadState) -> PendingRequests {
        thread.pendingRequests(owner: identity) { made in pending.withLock { $0.append(made) } }
    }

    /// Replays what every thread recorded into the series; before they are read.
    func flushPendingRequests() {
        for requests in pending.withLock({ $0 }) { flush(requests) }
    }

    private func flush(_ requests: PendingRequests) {
        // Slots are only ever appended: a copy of the list taken while the pending requests are locked names every
        // slot they hold.
        var slots: [RequestSeries] = []
        requests.flush { slot, recorded in
            if slot >= slots.count { slots = self.series.withLock { $0.slots } }
            let series = slots[slot]
            if recorded.requests > 0 {
                series.requests.increment(by: recorded.requests)
                series.lookup?.increment(by: recorded.requests)
                series.tally?.record(recorded.requests, hit: series.isHit)
            }
            if recorded.received > 0 { series.received.increment(by: recorded.received) }
            if recorded.sent > 0 { series.sent.increment(by: recorded.sent) }
            for value in recorded.firstBytes { series.firstByte.recordNanoseconds(value) }
            for value in recorded.durations { series.duration.recordNanoseconds(value) }
        }
    }

    private func makeSeries(_ labels: RequestLabels, status: Int, tally: LookupTally?) -> RequestSeries {
        let route = [("api", labels.api), ("operation", labels.operation)]
        var lookup: CoreMetrics.Counter?
        if labels.isCacheLookup, (200..<300).contains(status) || status == 404 {
            lookup = CoreMetrics.Counter(
                label: status == 404 ? "cairn_cache_misses_total" : "cairn_cache_hits_total",
                dimensions: [("protocol", labels.api), ("namespace", labels.namespace)], factory: factory)
        }
        return RequestSeries(
            requests: CoreMetrics.Counter(
                label: "cairn_requests_total",
                dimensions: route + [("status", String(status)), ("namespace", labels.namespace)], factory: factory),
            firstByte: CoreMetrics.Timer(
                label: "cairn_request_first_byte_seconds", dimensions: route, factory: factory),
            duration: CoreMetrics.Timer(label: "cairn_request_duration_seconds", dimensions: route, factory: factory),
            received: CoreMetrics.Counter(
                label: "cairn_received_bytes_total", dimensions: [("api", labels.api)], factory: factory),
            sent: CoreMetrics.Counter(
                label: "cairn_sent_bytes_total", dimensions: [("api", labels.api)], factory: factory),
            lookup: lookup, tally: tally, isHit: status != 404)
    }

    /// Cache hits and misses since the server started, by protocol.
    func lookupCountsByProtocol() -> [String: LookupCounts] {
        var byProtocol: [String: LookupCounts] = [:]
        for (key, counts) in lookupCounts() {
            byProtocol[key.api, default: LookupCounts()] = byProtocol[key.api, default: LookupCounts()] + counts
        }
        return byProtocol
    }

    /// Cache hits and misses since the server started, by protocol and namespace.
    func lookupCounts() -> [LookupKey: LookupCounts] {
        flushPendingRequests()
        return series.withLock { table in table.tallies.mapValues(\.counts) }
    }

    // MARK: retention and the runner

    /// Counts a retention run that deleted (not a dry run).
    public func recordRetention(_ report: RetentionReport) {
        guard !report.dryRun else { return }
        CoreMetrics.Counter(label: "cairn_retention_runs_total", factory: factory).increment()
        for (rule, count) in report.expired {
            CoreMetrics.Counter(label: "cairn_retention_removed_total", dimensions: [("rule", rule)], factory: factory)
                .increment(by: count)
        }
        CoreMetrics.Counter(label: "cairn_retention_uploads_aborted_total", factory: factory).increment(
            by: report.uploadsAborted)
        CoreMetrics.Counter(label: "cairn_retention_blobs_swept_total", factory: factory).increment(
            by: report.blobsSwept)
        CoreMetrics.Counter(label: "cairn_retention_freed_bytes_total", factory: factory).increment(
            by: report.bytesFreed)
        CoreMetrics.Timer(label: "cairn_retention_duration_seconds", factory: factory)
            .recordNanoseconds(Int64(report.durationSeconds * 1e9))
        CoreMetrics.Gauge(label: "cairn_retention_last_run_timestamp_seconds", factory: factory)
            .record(Date().timeIntervalSince1970)
    }

    /// Counts a build that `cairn build` reported: its phases restored and run, and the time restoring saved.
    public func recordBuild(_ report: BuildOutcomeReport) {
        CoreMetrics.Counter(
            label: "cairn_runner_builds_total", dimensions: [("result", report.succeeded ? "succeeded" : "failed")],
            factory: factory
        ).increment()
        CoreMetrics.Counter(label: "cairn_runner_phases_total", dimensions: [("outcome", "restored")], factory: factory)
            .increment(by: report.phases.filter { $0.outcome == .restored }.count)
        CoreMetrics.Counter(label: "cairn_runner_phases_total", dimensions: [("outcome", "ran")], factory: factory)
            .increment(by: report.phases.filter { $0.outcome == .ran }.count)
        CoreMetrics.FloatingPointCounter(label: "cairn_runner_saved_seconds_total", factory: factory)
            .increment(by: report.savedSeconds)
    }

    // MARK: storage

    /// Sets the storage series from a reading taken at scrape time.
    func recordStorage(_ usage: StorageUsage, freeBytes: Int64?, totalBytes: Int64?) {
        CoreMetrics.Gauge(label: "cairn_stored_objects", factory: factory).record(usage.objects)
        CoreMetrics.Gauge(label: "cairn_stored_cache_entries", factory: factory).record(usage.entries)
        CoreMetrics.Gauge(label: "cairn_stored_blobs", factory: factory).record(usage.blobs)
        CoreMetrics.Gauge(label: "cairn_stored_bytes", dimensions: [("kind", "logical")], factory: factory)
            .record(usage.logicalBytes)
        CoreMetrics.Gauge(label: "cairn_stored_bytes", dimensions: [("kind", "physical")], factory: factory)
            .record(usage.blobBytes)
        if let freeBytes {
            CoreMetrics.Gauge(label: "cairn_data_dir_free_bytes", factory: factory).record(freeBytes)
        }
        if let totalBytes {
            CoreMetrics.Gauge(label: "cairn_data_dir_size_bytes", factory: factory).record(totalBytes)
        }
    }

    /// The series in Prometheus' text format, every request recorded so far included.
    public func exposition() -> [UInt8] {
        flushPendingRequests()
        return registry.emitToBuffer()
    }
}
