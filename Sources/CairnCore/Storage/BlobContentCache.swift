import NIOConcurrencyHelpers
import NIOCore

/// The bytes of small blobs written or read recently, up to a byte budget: a hot small GET then costs no thread-pool
/// job and no system call. Blobs are immutable and named by their content, so an entry never goes stale; the metadata
/// decides which digests are reachable at all.
///
/// Past the budget a random entry goes. Oldest-first eviction gets no hits at all when reads cycle through a set just
/// larger than the cache (each read evicts the entry that the cycle needs next); random eviction keeps most of the
/// cache useful then, and does as well as oldest-first on reads that favour a hot set. A hit stays a lookup only.
public final class BlobContentCache: Sendable {
    private struct Entry {
        var bytes: ByteBuffer
        /// Where the digest is in `State.digests`.
        var slot: Int
    }

    private struct State {
        var entries: [BlobDigest: Entry] = [:]
        /// The digests held, in no order, for picking a victim by index.
        var digests: [BlobDigest] = []
        var bytes = 0
        var random: SplitMix64
    }

    private let state: NIOLockedValueBox<State>
    /// The most bytes held; 0 disables the cache.
    public let capacity: Int
    /// Only blobs of at most this many bytes are kept.
    public let largestEntry: Int

    public init(capacity: Int, largestEntry: Int = 64 * 1024, seed: UInt64 = .random(in: .min ... .max)) {
        self.capacity = capacity
        self.largestEntry = min(largestEntry, capacity)
        self.state = NIOLockedValueBox(State(random: SplitMix64(seed: seed)))
    }

    public func value(for digest: BlobDigest) -> ByteBuffer? {
        state.withLockedValue { $0.entries[digest]?.bytes }
    }

    /// The number of blobs held.
    public var count: Int { state.withLockedValue { $0.entries.count } }

    /// Keeps a whole blob's bytes, evicting random entries past the budget (never the one just inserted).
    public func insert(_ bytes: ByteBuffer, for digest: BlobDigest) {
        guard bytes.readableBytes <= largestEntry, capacity > 0 else { return }
        state.withLockedValue { state in
            guard state.entries[digest] == nil else { return }
            state.bytes += bytes.readableBytes
            while state.bytes > capacity, !state.digests.isEmpty {
                let victim = Int(state.random.next() % UInt64(state.digests.count))
                state.bytes -= state.entries.removeValue(forKey: state.digests[victim])!.bytes.readableBytes
                let last = state.digests.removeLast()
                if victim < state.digests.count {
                    state.digests[victim] = last
                    state.entries[last]!.slot = victim
                }
            }
            state.entries[digest] = Entry(bytes: bytes, slot: state.digests.count)
            state.digests.append(digest)
        }
    }
}
