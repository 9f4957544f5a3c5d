import NIOConcurrencyHelpers
import NIOCore

/// The bytes of small blobs written or read recently, up to a byte budget: a hot small GET then costs no thread-pool
/// job and no system call. Blobs are immutable and named by their content, so an entry never goes stale; the metadata
/// decides which digests are reachable at all. Past the budget a random blob goes (see ``RandomEvictionMap``).
public final class BlobContentCache: Sendable {
    private struct State {
        var entries: RandomEvictionMap<BlobDigest, ByteBuffer>
        var bytes = 0
    }

    private let state: NIOLockedValueBox<State>
    /// The most bytes held; 0 disables the cache.
    public let capacity: Int
    /// Only blobs of at most this many bytes are kept.
    public let largestEntry: Int

    public init(capacity: Int, largestEntry: Int = 64 * 1024, seed: UInt64 = .random(in: .min ... .max)) {
        self.capacity = capacity
        self.largestEntry = min(largestEntry, capacity)
        self.state = NIOLockedValueBox(State(entries: RandomEvictionMap(seed: seed)))
    }

    public func value(for digest: BlobDigest) -> ByteBuffer? {
        state.withLockedValue { $0.entries[digest] }
    }

    /// The number of blobs held.
    public var count: Int { state.withLockedValue { $0.entries.count } }

    /// Keeps a whole blob's bytes, evicting random entries past the budget (never the one just inserted).
    public func insert(_ bytes: ByteBuffer, for digest: BlobDigest) {
        guard bytes.readableBytes <= largestEntry, capacity > 0 else { return }
        state.withLockedValue { state in
            guard state.entries[digest] == nil else { return }
            state.bytes += bytes.readableBytes
            while state.bytes > capacity, let evicted = state.entries.removeRandom() {
                state.bytes -= evicted.readableBytes
            }
            state.entries.set(bytes, for: digest)
        }
    }
}
