import CairnCore
import CairnRunner

/// A store that hands out the value of every entry in one namespace rewritten, as a store written by another
/// version of the runner (or damaged) would hold it; everything else goes to `base`.
struct RewritingStore: PhaseStore {
    let base: LocalPhaseStore
    let namespace: String
    let rewrite: @Sendable ([UInt8]) throws -> [UInt8]

    var description: String { base.description }

    func missing(_ digests: [BlobDigest]) async throws -> Set<BlobDigest> { try await base.missing(digests) }
    func upload(file path: String, digest: BlobDigest) async throws {
        try await base.upload(file: path, digest: digest)
    }
    func upload(bytes: [UInt8]) async throws -> BlobSegment { try await base.upload(bytes: bytes) }
    func download(_ digest: BlobDigest, to path: String) async throws { try await base.download(digest, to: path) }
    func read(_ digest: BlobDigest) async throws -> [UInt8] { try await base.read(digest) }
    func putEntry(_ entry: ActionEntry) async throws { try await base.putEntry(entry) }

    func entry(namespace: String, key: String) async throws -> ActionEntry? {
        guard var entry = try await base.entry(namespace: namespace, key: key) else { return nil }
        guard namespace == self.namespace else { return entry }
        entry.value = try await base.upload(bytes: try rewrite(try await base.read(entry.value.digest)))
        return entry
    }

    func putObject(bucket: String, key: String, file: String, metadata: [String: String]) async throws -> String {
        try await base.putObject(bucket: bucket, key: key, file: file, metadata: metadata)
    }

    func createObject(bucket: String, key: String, bytes: [UInt8]) async throws -> Bool {
        try await base.createObject(bucket: bucket, key: key, bytes: bytes)
    }
}
