import NIOPosix

/// What a thread keeps for recording requests: the series slots it used last, so that a request usually finds its
/// slot by comparing a few labels on its own thread, without the series table's lock or hashing the labels; and its
/// ``PendingRequests`` for each ``ServerMetrics`` it records into.
///
/// `@unchecked Sendable`: each instance is reached only through ``current``, a thread-specific variable, so only
/// the thread it belongs to ever reads or writes it.
final class MetricsThreadState: @unchecked Sendable {
    private struct CachedSlot {
        let owner: Int
        let labels: RequestLabels
        let status: Int
        let slot: Int
    }

    /// Enough for the few kinds of request one thread serves at a time; the oldest entry makes room.
    static let capacity = 8

    private var slots: [CachedSlot] = []
    private var nextSlot = 0
    private var pending: [(owner: Int, requests: PendingRequests)] = []
    private var nextPending = 0

    /// The slot `owner` numbered these labels and status with, if this thread has used it recently.
    func slot(owner: Int, _ labels: RequestLabels, status: Int) -> Int? {
        for entry in slots where entry.status == status && entry.owner == owner && entry.labels == labels {
            return entry.slot
        }
        return nil
    }

    func remember(owner: Int, _ labels: RequestLabels, status: Int, slot: Int) {
        let entry = CachedSlot(owner: owner, labels: labels, status: status, slot: slot)
        if slots.count < Self.capacity {
            slots.append(entry)
        } else {
            slots[nextSlot] = entry
            nextSlot = (nextSlot + 1) % Self.capacity
        }
    }

    /// This thread's pending requests of `owner`, made (and handed to `register`) on first use.
    func pendingRequests(owner: Int, register: (PendingRequests) -> Void) -> PendingRequests {
        for entry in pending where entry.owner == owner { return entry.requests }
        let made = PendingRequests()
        register(made)
        // The owner flushes every one it registered, so one dropped here from the thread loses nothing.
        if pending.count < Self.capacity {
            pending.append((owner, made))
        } else {
            pending[nextPending] = (owner, made)
            nextPending = (nextPending + 1) % Self.capacity
        }
        return made
    }

    private static let variable = ThreadSpecificVariable<MetricsThreadState>()

    /// This thread's state.
    static var current: MetricsThreadState {
        if let state = variable.currentValue { return state }
        let state = MetricsThreadState()
        variable.currentValue = state
        return state
    }
}
