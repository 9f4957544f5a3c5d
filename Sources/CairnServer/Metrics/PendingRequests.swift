import Synchronization

/// What one thread recorded of requests since its last flush into the registry's series: counts, bytes and
/// latencies by series slot.
///
/// A request records here, under a lock only its own thread takes (the scrape takes it too, rarely), instead of in
/// the registry's series, which every thread shares: their counters are atomics and their histograms take a lock
/// per observation, and each of those pulls a cache line from the other cores. A flush (every
/// ``flushThreshold`` requests, and before the series are read) replays what was recorded into the series, value
/// by value, so sums and bucket counts are exact.
final class PendingRequests: Sendable {
    struct Slot {
        var requests = 0
        var received: Int64 = 0
        var sent: Int64 = 0
        var firstBytes: [Int64] = []
        var durations: [Int64] = []

        var isEmpty: Bool { requests == 0 && firstBytes.isEmpty && durations.isEmpty }

        mutating func clear() {
            requests = 0
            received = 0
            sent = 0
            firstBytes.removeAll(keepingCapacity: true)
            durations.removeAll(keepingCapacity: true)
        }
    }

    struct State {
        /// By slot number.
        var slots: [Slot] = []
        /// The slots with something to flush.
        var touched: [Int] = []
        /// Requests and latencies recorded since the last flush.
        var observations = 0
    }

    /// Recorded observations past which the recording thread flushes.
    static let flushThreshold = 256

    private let state = Mutex(State())

    /// Records into `slot`; returns whether the thread should flush now.
    func record(slot: Int, _ change: (inout Slot) -> Void) -> Bool {
        state.withLock { state in
            if slot >= state.slots.count {
                state.slots.append(contentsOf: repeatElement(Slot(), count: slot + 1 - state.slots.count))
            }
            if state.slots[slot].isEmpty { state.touched.append(slot) }
            change(&state.slots[slot])
            state.observations += 1
            return state.observations >= Self.flushThreshold
        }
    }

    /// Hands every touched slot to `apply` and clears it.
    func flush(_ apply: (Int, Slot) -> Void) {
        state.withLock { state in
            for slot in state.touched {
                apply(slot, state.slots[slot])
                state.slots[slot].clear()
            }
            state.touched.removeAll(keepingCapacity: true)
            state.observations = 0
        }
    }
}
