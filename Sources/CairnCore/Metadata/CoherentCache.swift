import NIOConcurrencyHelpers

/// A bounded in-memory copy of rows that one ``MetadataStore`` reads often (objects, buckets), kept coherent with
/// SQLite by that store alone: every write of those rows goes through it and, once it commits, either invalidates
/// the key or (``replace(_:with:)``, in commit order) puts the row it wrote.
///
/// A read that overlapped any write is not cached: the reader takes the ``generation`` before it reads SQLite and
/// ``insert(_:for:readAt:)`` drops the value when a write has bumped the generation since, so a row read just
/// before a commit can never outlive it in the cache.
final class CoherentCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var entries: [Key: Value] = [:]
        /// Insertion order, oldest first from `head`; keys invalidated since are skipped when their turn comes.
        var order: [Key] = []
        var head = 0
    }

    private let state = NIOLockedValueBox(State())
    /// At most this many entries; past it, the oldest inserted go first.
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Taken before reading SQLite, for ``insert(_:for:readAt:)``.
    var generation: UInt64 { state.withLockedValue { $0.generation } }

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
        guard state.entries.updateValue(value, forKey: key) == nil else { return }
        state.order.append(key)
        while state.entries.count > capacity, state.head < state.order.count {
            state.entries[state.order[state.head]] = nil
            state.head += 1
        }
        if state.order.count > 2 * capacity + 1024 {
            // Drop the consumed prefix and the keys invalidated meanwhile, keeping the order of the rest.
            state.order = state.order[state.head...].filter { state.entries[$0] != nil }
            state.head = 0
        }
    }

    /// After a write of `key` commits.
    func invalidate(_ key: Key) {
        state.withLockedValue { state in
            state.generation &+= 1
            state.entries[key] = nil
        }
    }

    /// After a write of many rows (retention) commits.
    func invalidateAll() {
        state.withLockedValue { state in
            state.generation &+= 1
            state.entries.removeAll()
            state.order.removeAll()
            state.head = 0
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

/// The key of an object in ``MetadataStore``'s cache.
struct ObjectCacheKey: Hashable, Sendable {
    let bucket: ExactText
    let key: ExactText

    init(bucket: String, key: String) {
        self.bucket = ExactText(bucket)
        self.key = ExactText(key)
    }
}
