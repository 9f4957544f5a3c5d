import NIOConcurrencyHelpers

/// A bounded in-memory copy of rows that one ``SQLiteMetadataStore`` reads often (objects, buckets), kept coherent with
/// SQLite by that store alone: every write of those rows goes through it and, once it commits, either invalidates
/// the key or (``replace(_:with:)``, in commit order) puts the row it wrote.
///
/// A read that overlapped any write is not cached: the reader takes the ``generation`` before it reads SQLite and
/// ``insert(_:for:readAt:)`` drops the value when a write has bumped the generation since, so a row read just
/// before a commit can never outlive it in the cache.
final class CoherentCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var entries: RandomEvictionMap<Key, Value>
    }

    private let state: NIOLockedValueBox<State>
    /// At most this many entries; past it, a random one goes (see ``RandomEvictionMap``).
    let capacity: Int

    init(capacity: Int, seed: UInt64 = .random(in: .min ... .max)) {
        self.capacity = capacity
        self.state = NIOLockedValueBox(State(entries: RandomEvictionMap(seed: seed)))
    }

    /// Taken before reading SQLite, for ``insert(_:for:readAt:)``.
    var generation: UInt64 { state.withLockedValue { $0.generation } }

    /// The number of entries held.
    var count: Int { state.withLockedValue { $0.entries.count } }

    func value(for key: Key) -> Value? {
        state.withLockedValue { $0.entries[key] }
    }

    /// Caches a value read from SQLite, unless a write happened since `generation` was taken.
    func insert(_ value: Value, for key: Key, readAt generation: UInt64) {
        guard capacity > 0 else { return }
        state.withLockedValue { state in
            guard state.generation == generation else { return }
            store(value, for: key, in: &state)
        }
    }

    /// After a write of `key` commits, with the value it wrote: called in commit order (from the transaction's
    /// commit, on the writer), so a later write's value is never replaced by an earlier one's. Like
    /// ``invalidate(_:)`` it fails every read in flight, which may have read the row before the write.
    func replace(_ key: Key, with value: Value) {
        state.withLockedValue { state in
            state.generation &+= 1
            guard capacity > 0 else { return }
            store(value, for: key, in: &state)
        }
    }

    private func store(_ value: Value, for key: Key, in state: inout State) {
        if state.entries[key] == nil {
            while state.entries.count >= capacity, state.entries.removeRandom() != nil {}
        }
        state.entries.set(value, for: key)
    }

    /// After a write of `key` commits.
    func invalidate(_ key: Key) {
        state.withLockedValue { state in
            state.generation &+= 1
            state.entries.remove(key)
        }
    }

    /// After a write of many rows (retention) commits.
    func invalidateAll() {
        state.withLockedValue { state in
            state.generation &+= 1
            state.entries.removeAll()
        }
    }
}

/// Text compared and hashed by its UTF-8 bytes. Swift's `String` equality is canonical equivalence, so "é" and
/// "e\u{301}" are equal Strings, but they are two different S3 keys.
struct ExactText: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (lhs: ExactText, rhs: ExactText) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }

    func hash(into hasher: inout Hasher) {
        hasher.combine(text.utf8.count)
        for byte in text.utf8 { hasher.combine(byte) }
    }
}

/// The key of an object in ``SQLiteMetadataStore``'s cache.
struct ObjectCacheKey: Hashable, Sendable {
    let bucket: ExactText
    let key: ExactText

    init(bucket: String, key: String) {
        self.bucket = ExactText(bucket)
        self.key = ExactText(key)
    }
}
