import Foundation

/// Collects object reads and writes their access times to the metadata store in batches, not one write per GET.
///
/// The server flushes it on an interval and once more at shutdown; reads between the last flush and a crash are
/// lost, which only makes an entry look slightly older to retention.
public actor AccessLog {
    private struct Key: Hashable {
        let bucket: String
        let key: String
    }

    private struct EntryKey: Hashable {
        let namespace: String
        let key: String
    }

    private let metadata: MetadataStore
    private var pending: [Key: Date] = [:]
    private var pendingEntries: [EntryKey: Date] = [:]

    public init(metadata: MetadataStore) {
        self.metadata = metadata
    }

    /// Notes that an object was read now.
    public func record(bucket: String, key: String, at date: Date = Date()) {
        pending[Key(bucket: bucket, key: key)] = date
    }

    /// Notes that a cache entry was read now.
    public func recordEntry(namespace: String, key: String, at date: Date = Date()) {
        pendingEntries[EntryKey(namespace: namespace, key: key)] = date
    }

    /// The number of reads waiting to be written.
    public var pendingCount: Int { pending.count + pendingEntries.count }

    /// Writes the collected access times in one transaction.
    public func flush() async throws {
        if !pendingEntries.isEmpty {
            let batch = pendingEntries
            pendingEntries = [:]
            do {
                try await metadata.recordEntryAccess(batch.map { ($0.key.namespace, $0.key.key, $0.value) })
            } catch {
                for (key, date) in batch where pendingEntries[key] == nil { pendingEntries[key] = date }
                throw error
            }
        }
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = [:]
        do {
            try await metadata.recordAccess(batch.map { ($0.key.bucket, $0.key.key, $0.value) })
        } catch {
            for (key, date) in batch where pending[key] == nil { pending[key] = date }
            throw error
        }
    }
}
