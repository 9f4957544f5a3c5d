import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import CairnServer

/// Requests recorded into each thread's pending requests and replayed into the series: nothing lost or counted
/// twice, whichever threads record and however often the series are read.
@Suite("Server metrics")
struct ServerMetricsTests {
    static func value(_ text: String, _ line: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap {
            Double($0.split(separator: " ").last!)
        }
    }

    @Test("requests recorded on several threads at once, read while they are recorded, are all counted exactly")
    func concurrentRecording() async throws {
        let metrics = ServerMetrics()
        let get = RequestLabels(api: "s3", operation: "GetObject", namespace: "bucket")
        let lookup = RequestLabels(api: "ccache", operation: "GET", namespace: "team", isCacheLookup: true)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        let perThread = 1_000
        var futures: [EventLoopFuture<Void>] = []
        for loop in 0..<3 {
            futures.append(
                group.next().submit {
                    for index in 0..<perThread {
                        metrics.recordWhole(get, status: 200, received: 0, sent: 10, nanoseconds: 1_000)
                        metrics.recordWhole(
                            lookup, status: index % 4 == 0 ? 404 : 200, received: 5, sent: 0, nanoseconds: 3_000)
                        if loop == 0, index % 100 == 0 { _ = metrics.lookupCounts() }
                    }
                })
        }
        // Durations of streamed bodies end on some other thread.
        let slot = metrics.requestSlot(get, status: 206)
        metrics.recordRequest(
            slot: slot, received: 0, sent: 100, firstByteNanoseconds: 2_000, durationNanoseconds: nil)
        try await group.next().submit { metrics.recordDuration(slot: slot, nanoseconds: 9_000_000) }.get()
        for future in futures { try await future.get() }
        try await group.shutdownGracefully()

        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        let total = Double(3 * perThread)
        #expect(
            Self.value(
                text, #"cairn_requests_total{api="s3",operation="GetObject",status="200",namespace="bucket"}"#)
                == total)
        #expect(Self.value(text, #"cairn_sent_bytes_total{api="s3"}"#) == total * 10 + 100)
        #expect(Self.value(text, #"cairn_received_bytes_total{api="ccache"}"#) == total * 5)
        #expect(Self.value(text, #"cairn_cache_hits_total{protocol="ccache",namespace="team"}"#) == total * 3 / 4)
        #expect(Self.value(text, #"cairn_cache_misses_total{protocol="ccache",namespace="team"}"#) == total / 4)
        #expect(
            Self.value(text, #"cairn_request_duration_seconds_count{api="s3",operation="GetObject"}"#) == total + 1)
        #expect(
            Self.value(text, #"cairn_request_first_byte_seconds_count{api="s3",operation="GetObject"}"#) == total + 1)
        let sum = try #require(
            Self.value(text, #"cairn_request_duration_seconds_sum{api="s3",operation="GetObject"}"#))
        #expect(abs(sum - (total * 1e-6 + 0.009)) < 1e-9)
        let counts = metrics.lookupCounts()[ServerMetrics.LookupKey(api: "ccache", namespace: "team")]
        #expect(counts == LookupCounts(hits: 3 * perThread * 3 / 4, misses: 3 * perThread / 4))
    }
}
