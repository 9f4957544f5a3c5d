import Foundation
import NIOConcurrencyHelpers

/// Collects object reads and writes their access times to the metadata store in batches, not one write per GET.
///
/// The server flushes it on an interval and once more at shutdown; reads between the last flush and a crash are
/// lost, which only makes an entry look slightly older to retention.
public final class AccessLog: Sendable {
    /// Names compare by their bytes (``ExactText``): canonically equivalent keys are different objects.
    private struct Key: Hashable {
        let bucket: ExactText
        let key: ExactText
        init(bucket: String, key: String) {
            self.bucket = ExactText(bucket)
            self.key = ExactText(key)
        }
    }

    private struct EntryKey: Hashable {
        let namespace: ExactText
        let key: ExactText
        init(namespace: String, key: String) {
            self.namespace = ExactText(namespace)
            self.key = ExactText(key)
        }
    }

    private struct Pending {
        var objects: [Key: Date] = [:]
        var entries: [EntryKey: Date] = [:]
    }

    private let metadata: any MetadataStore
    /// Recording is a dictionary write under a lock: no hop to another executor on the read path.
    private let pending = NIOLockedValueBox(Pending())

    public init(metadata: any MetadataStore) {
        self.metadata = metadata
    }

    /// Notes that an object was read now.
    public func record(bucket: String, key: String, at date: Date = Date()) {
        pending.withLockedValue { $0.objects[Key(bucket: bucket, key: key)] = date }
    }

    /// Notes that a cache entry was read now.
    public func recordEntry(namespace: String, key: String, at date: Date = Date()) {
        pending.withLockedValue { $0.entries[EntryKey(namespace: namespace, key: key)] = date }
    }

    /// The number of reads waiting to be written.
    public var pendingCount: Int { pending.withLockedValue { $0.objects.count + $0.entries.count } }

    /// Writes the collected access times in one transaction.
    public func flush() async throws {
        let batch = pending.withLockedValue { pending in
            defer { pending = Pending() }
            return pending
        }
        do {
            try await metadata.recordEntryAccess(
                batch.entries.map { ($0.key.namespace.text, $0.key.key.text, $0.value) })
            try await metadata.recordAccess(batch.objects.map { ($0.key.bucket.text, $0.key.key.text, $0.value) })
        } catch {
            // Kept for the next flush, unless a newer read of the same name was recorded meanwhile.
            pending.withLockedValue { pending in
                for (key, date) in batch.entries where pending.entries[key] == nil { pending.entries[key] = date }
                for (key, date) in batch.objects where pending.objects[key] == nil { pending.objects[key] = date }
            }
            throw error
        }
    }
}
