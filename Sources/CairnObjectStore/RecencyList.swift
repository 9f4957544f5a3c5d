import CairnCore

/// Blobs with their sizes, in the order they were last used: what ``BlobDiskCache`` evicts from, oldest first.
///
/// Every operation is O(1): a doubly linked list threaded through a dictionary by digest.
struct RecencyList: Sendable {
    private struct Node: Sendable {
        var size: Int64
        var older: BlobDigest?
        var newer: BlobDigest?
    }

    private var nodes: [BlobDigest: Node] = [:]
    private var oldest: BlobDigest?
    private var newest: BlobDigest?
    /// The sizes of every blob listed, added up.
    private(set) var bytes: Int64 = 0

    var count: Int { nodes.count }

    /// A listed blob's size, without counting it as used.
    func size(of digest: BlobDigest) -> Int64? {
        nodes[digest]?.size
    }

    /// Makes a listed blob the most recently used; returns its size, or nil when it is not listed.
    mutating func touch(_ digest: BlobDigest) -> Int64? {
        guard let node = nodes[digest] else { return nil }
        if newest != digest {
            unlink(digest, node)
            append(digest, size: node.size)
        }
        return node.size
    }

    /// Lists a blob as the most recently used (replacing its entry when it is listed).
    mutating func insert(_ digest: BlobDigest, size: Int64) {
        remove(digest)
        append(digest, size: size)
        bytes += size
    }

    /// Drops a blob; returns its size, or nil when it was not listed.
    @discardableResult
    mutating func remove(_ digest: BlobDigest) -> Int64? {
        guard let node = nodes[digest] else { return nil }
        unlink(digest, node)
        nodes[digest] = nil
        bytes -= node.size
        return node.size
    }

    /// Drops the least recently used blob and returns it.
    mutating func removeOldest() -> (digest: BlobDigest, size: Int64)? {
        guard let digest = oldest, let size = remove(digest) else { return nil }
        return (digest, size)
    }

    /// Takes a node out of the order (its entry stays in `nodes`).
    private mutating func unlink(_ digest: BlobDigest, _ node: Node) {
        if let older = node.older { nodes[older]?.newer = node.newer } else { oldest = node.newer }
        if let newer = node.newer { nodes[newer]?.older = node.older } else { newest = node.older }
    }

    /// Puts a node at the newest end.
    private mutating func append(_ digest: BlobDigest, size: Int64) {
        nodes[digest] = Node(size: size, older: newest, newer: nil)
        if let newest { nodes[newest]?.newer = digest } else { oldest = digest }
        newest = digest
    }
}
