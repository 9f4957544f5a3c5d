/// A dictionary that can drop a random entry in constant time, for the bounded memory caches.
///
/// Oldest-first eviction gets no hits at all when reads cycle through a set just larger than a cache (each read
/// evicts the entry the cycle needs next); random eviction keeps most of the cache useful then, and does as well as
/// oldest-first on reads that favour a hot set. A lookup is a plain dictionary lookup, with no bookkeeping.
struct RandomEvictionMap<Key: Hashable, Value> {
    /// Each value with where its key is in `keys`.
    private var entries: [Key: (value: Value, slot: Int)] = [:]
    /// The keys held, in no order, for picking one by index.
    private var keys: [Key] = []
    private var random: SplitMix64

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    var count: Int { entries.count }

    subscript(key: Key) -> Value? { entries[key]?.value }

    /// Sets the value of a key, held or not.
    mutating func set(_ value: Value, for key: Key) {
        if entries[key] != nil {
            entries[key]!.value = value
        } else {
            entries[key] = (value, keys.count)
            keys.append(key)
        }
    }

    @discardableResult
    mutating func remove(_ key: Key) -> Value? {
        guard let entry = entries.removeValue(forKey: key) else { return nil }
        let last = keys.removeLast()
        if entry.slot < keys.count {
            keys[entry.slot] = last
            entries[last]!.slot = entry.slot
        }
        return entry.value
    }

    /// Removes a random entry and returns its value; nil when empty.
    mutating func removeRandom() -> Value? {
        guard !keys.isEmpty else { return nil }
        return remove(keys[Int(random.next() % UInt64(keys.count))])
    }

    mutating func removeAll() {
        entries.removeAll()
        keys.removeAll()
    }
}

extension RandomEvictionMap: Sendable where Key: Sendable, Value: Sendable {}
