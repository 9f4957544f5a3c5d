import NIOConcurrencyHelpers
import NIOCore

/// The bytes of small blobs written or read recently, up to a byte budget, oldest first out: a hot small GET then costs no
/// thread-pool job and no system call. Blobs are immutable and named by their content, so an entry never goes
/// stale; the metadata decides which digests are reachable at all.
public final class BlobContentCache: Sendable {
    private struct State {
        var entries: [BlobDigest: ByteBuffer] = [:]
        /// Insertion order; `head` is the oldest entry still (maybe) present.
        var order: [BlobDigest] = []
        var head = 0
        var bytes = 0
    }

    private let state = NIOLockedValueBox(State())
    /// The most bytes held; 0 disables the cache.
    public let capacity: Int
    /// Only blobs of at most this many bytes are kept.
    public let largestEntry: Int

    public init(capacity: Int, largestEntry: Int = 64 * 1024) {
        self.capacity = capacity
        self.largestEntry = min(largestEntry, capacity)
    }

    public func value(for digest: BlobDigest) -> ByteBuffer? {
        state.withLockedValue { $0.entries[digest] }
    }

    /// Keeps a whole blob's bytes, evicting the oldest entries past the budget.
    public func insert(_ bytes: ByteBuffer, for digest: BlobDigest) {
        guard bytes.readableBytes <= largestEntry, capacity > 0 else { return }
        state.withLockedValue { state in
            guard state.entries.updateValue(bytes, forKey: digest) == nil else { return }
            state.order.append(digest)
            state.bytes += bytes.readableBytes
            while state.bytes > capacity, state.head < state.order.count {
                let oldest = state.order[state.head]
                state.head += 1
                if let evicted = state.entries.removeValue(forKey: oldest) { state.bytes -= evicted.readableBytes }
            }
            if state.head > 1024 && state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
        }
    }
}
