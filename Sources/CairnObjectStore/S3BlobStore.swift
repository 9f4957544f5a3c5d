import AsyncHTTPClient
import CairnCore
import CairnSigV4
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Blobs as objects in an S3-compatible store (AWS S3, Ceph RGW, SeaweedFS, MinIO, Garage), shared by any number of
/// server nodes; small blobs as rows of a database table the nodes share, when the store is given one.
///
/// Keys are content addresses under the location's prefix (`prefix/ab/abcdef…`), so a blob is stored once however
/// many nodes receive it. A new blob of at most ``smallBlobLimit`` bytes is held in memory while it is hashed and
/// inserted into ``smallBlobs`` at ``BlobWriter/commit()`` (a row costs less than a PUT and reads far faster); a larger
/// one streams into a local temp file while it is hashed (``S3BlobWriter``), then is PUT with its length known,
/// unless the store already holds it. ``BlobWriter/commit()`` returns once the row or the object is durable, so
/// metadata written afterwards names a blob every node can read.
///
/// Reads look in the table first when the range fits a small blob, then in the node's ``cache`` (whole blobs read
/// from or written to the object store recently), then in the object store; the table is asked last for a larger
/// range, in case the limit was larger when the blob was stored. Nothing local is a source of truth: the staging
/// directory holds only uploads in flight, and the cache only copies.
public final class S3BlobStore: BlobStore {
    public let location: ObjectStoreLocation
    /// Where blobs of at most ``smallBlobLimit`` bytes are stored; nil stores every blob in the object store.
    public let smallBlobs: (any SmallBlobDatabase)?
    /// The largest blob stored in ``smallBlobs``, in bytes.
    public let smallBlobLimit: Int64
    /// This node's copies of blobs it read from or wrote to the object store; nil when it keeps none.
    public let cache: BlobDiskCache?
    /// Where uploads are hashed and staged before their PUT (a directory of this node).
    let staging: FileBlobStore
    let client: HTTPClient
    let signer: SigV4Signer
    /// Blobs this node stored or saw stored: what ``contains(_:)`` can answer without a request.
    let known = Mutex<Set<BlobDigest>>([])

    static let timeout = TimeAmount.minutes(10)

    /// - Parameters:
    ///   - stagingDirectory: a local directory for uploads in flight (created when missing).
    ///   - smallBlobs: where blobs of at most `smallBlobLimit` bytes go instead of the object store; nil: nowhere.
    ///   - cache: a disk cache of hot blobs of this node, or nil.
    public init(
        location: ObjectStoreLocation, stagingDirectory: String, client: HTTPClient = S3BlobStore.defaultClient,
        smallBlobs: (any SmallBlobDatabase)? = nil, smallBlobLimit: Int64 = 64 * 1024, cache: BlobDiskCache? = nil
    ) throws {
        self.location = location
        self.staging = try FileBlobStore(dataDirectory: stagingDirectory)
        self.client = client
        self.signer = SigV4Signer(
            accessKeyID: location.accessKeyID, secretAccessKey: location.secretAccessKey, region: location.region)
        self.smallBlobs = smallBlobLimit > 0 ? smallBlobs : nil
        self.smallBlobLimit = self.smallBlobs == nil ? 0 : smallBlobLimit
        self.cache = cache
    }

    /// Creates the bucket unless it exists (owned by these credentials).
    public func createBucketIfNeeded() async throws {
        let response = try await send(.PUT, path: "/\(location.bucket)")
        let body = try await Self.text(response)
        guard (200..<300).contains(response.status.code) || body.contains("BucketAlreadyOwnedByYou") else {
            throw failure("creating bucket \(location.bucket)", response.status, body)
        }
    }

    /// True when this node stored the blob or saw it stored; false says only that it does not know. Never blocks:
    /// ask ``storedSizes(_:)`` for the stores' answer.
    public func contains(_ digest: BlobDigest) -> Bool {
        known.withLock { $0.contains(digest) }
    }

    /// Always nil: no blob is held in memory.
    public func inMemory(_ digest: BlobDigest) -> ByteBuffer? { nil }

    /// The sizes the small-blob table holds (one query for all), and for the rest the sizes the object store
    /// reports (a HEAD each, several at once). The disk cache is not asked: it is never a source of truth.
    public func storedSizes(_ digests: [BlobDigest]) async throws -> [Int64?] {
        var sizes = [Int64?](repeating: nil, count: digests.count)
        if let smallBlobs, !digests.isEmpty {
            let rows = try await smallBlobs.sizes(digests)
            for (index, digest) in digests.enumerated() { sizes[index] = rows[digest] }
            for digest in rows.keys { remember(digest) }
        }
        let rest = sizes.indices.filter { sizes[$0] == nil }
        for (index, size) in zip(rest, try await objectSizes(rest.map { digests[$0] })) { sizes[index] = size }
        return sizes
    }

    /// The sizes the object store reports (a HEAD each, several at once).
    private func objectSizes(_ digests: [BlobDigest]) async throws -> [Int64?] {
        try await withThrowingTaskGroup(of: (Int, Int64?).self) { group in
            var sizes = [Int64?](repeating: nil, count: digests.count)
            var next = 0
            func start() {
                let index = next
                let digest = digests[index]
                group.addTask { (index, try await self.size(of: digest)) }
                next += 1
            }
            while next < min(digests.count, 16) { start() }
            while let (index, size) = try await group.next() {
                sizes[index] = size
                if next < digests.count { start() }
            }
            return sizes
        }
    }

    /// Every stored blob can be read: the same as ``storedSizes(_:)``.
    public func readableSizes(_ digests: [BlobDigest]) async throws -> [Int64?] {
        try await storedSizes(digests)
    }

    public func makeWriter(checksum: ChecksumAlgorithm?, expectedSize: Int64?) throws -> any BlobWriter {
        try S3BlobWriter(store: self, checksum: checksum, expectedSize: expectedSize)
    }

    /// Removes staged uploads that never finished (at start-up).
    public func removeTemporaryFiles() throws -> Int {
        try staging.removeTemporaryFiles()
    }

    /// Removes staged uploads last written before `cutoff`.
    public func removeTemporaryFiles(before cutoff: Date, dryRun: Bool) throws -> Int {
        try staging.removeTemporaryFiles(before: cutoff, dryRun: dryRun)
    }

    public func readChunks(
        of digest: BlobDigest, range: Range<Int64>, chunkSize: Int, _ body: (ByteBuffer) async throws -> Void
    ) async throws {
        guard !range.isEmpty else { return }
        let small = fitsSmallBlob(range)
        if small, let content = try await smallContent(of: digest) {
            return try await Self.stream(content, range: range, chunkSize: chunkSize, body)
        }
        if let cache, try await cache.readChunks(of: digest, range: range, chunkSize: chunkSize, body) { return }
        do {
            try await readObject(digest, range: range, chunkSize: chunkSize, body)
        } catch let error as BlobStoreError where error.code == .missingBlob && !small {
            guard let content = try await smallContent(of: digest) else { throw error }
            try await Self.stream(content, range: range, chunkSize: chunkSize, body)
        }
    }

    public func read(_ digest: BlobDigest, range: Range<Int64>) async throws -> ByteBuffer {
        var whole = ByteBufferAllocator().buffer(capacity: Int(range.count))
        try await readChunks(of: digest, range: range, chunkSize: 1 << 20) { chunk in
            var chunk = chunk
            whole.writeBuffer(&chunk)
        }
        guard whole.readableBytes == range.count else {
            throw BlobStoreError(code: .io, message: "blob \(digest) is shorter than its metadata says")
        }
        return whole
    }

    public func read(_ digest: BlobDigest, range: Range<Int64>, on eventLoop: any EventLoop)
        -> EventLoopFuture<ByteBuffer>
    {
        eventLoop.makeFutureWithTask { try await self.read(digest, range: range) }
    }

    /// Several small blobs in one buffer: those that fit the small-blob table are fetched from it with one query,
    /// the rest read one by one.
    public func read(
        _ segments: [BlobSegment], header: @escaping @Sendable (BlobSegment) -> [UInt8]
    ) async throws -> ByteBuffer {
        var rows: [BlobDigest: ByteBuffer] = [:]
        if let smallBlobs {
            let small = segments.filter { $0.size <= smallBlobLimit }.map(\.digest)
            if !small.isEmpty { rows = try await smallBlobs.contents(small) }
        }
        var whole = ByteBufferAllocator().buffer(capacity: 0)
        for segment in segments {
            whole.writeBytes(header(segment))
            if var row = rows[segment.digest], row.readableBytes == Int(segment.size) {
                whole.writeBuffer(&row)
                continue
            }
            var content = try await read(segment.digest, range: 0..<segment.size)
            whole.writeBuffer(&content)
        }
        return whole
    }

    /// The blob's cached file on this node, when the cache holds it; nil otherwise (small blobs are rows, and a
    /// blob only in the object store is streamed by ``readChunks(of:range:chunkSize:_:)``, which caches it).
    public func openFile(_ digest: BlobDigest) async throws -> OpenBlobFile? {
        await cache?.openFile(digest)
    }

    /// Removes a blob from wherever it is stored: its row when it has one, else its object; and from this node's
    /// cache once it is gone from the store, so that this node never serves it again. (A blob stored both ways,
    /// by nodes with different limits, keeps its object: nothing names it, so that costs only space.)
    public func remove(_ digest: BlobDigest) async throws {
        known.withLock { _ = $0.remove(digest) }
        if let smallBlobs, try await smallBlobs.remove(digest) {
            await cache?.remove(digest)
            return
        }
        let response = try await send(.DELETE, path: location.path(of: digest.hex))
        let text = try await Self.text(response)
        await cache?.remove(digest)
        guard (200..<300).contains(response.status.code) || response.status == .notFound else {
            throw failure("removing blob \(digest)", response.status, text)
        }
    }

    // MARK: Small blobs

    /// Whether a read of `range` can be of a blob in the small-blob table.
    private func fitsSmallBlob(_ range: Range<Int64>) -> Bool {
        smallBlobs != nil && range.upperBound <= smallBlobLimit
    }

    /// A small blob's bytes from the table, or nil when it has no row.
    private func smallContent(of digest: BlobDigest) async throws -> ByteBuffer? {
        guard let smallBlobs else { return nil }
        return try await smallBlobs.contents([digest])[digest]
    }

    /// Stores a small blob's bytes in the table (kept once, whoever inserts them first).
    func storeSmall(_ content: ByteBuffer, digest: BlobDigest) async throws {
        guard let smallBlobs else { preconditionFailure("a small blob was held by a store without a table") }
        try await smallBlobs.insert(content, for: digest)
        remember(digest)
    }

    /// Sends `range` of a blob's whole bytes in chunks; a range past the end stops at the end.
    private static func stream(
        _ content: ByteBuffer, range: Range<Int64>, chunkSize: Int, _ body: (ByteBuffer) async throws -> Void
    ) async throws {
        let end = min(range.upperBound, Int64(content.readableBytes))
        var offset = range.lowerBound
        while offset < end {
            let length = Int(min(end - offset, Int64(chunkSize)))
            try await body(content.getSlice(at: content.readerIndex + Int(offset), length: length)!)
            offset += Int64(length)
        }
    }

    // MARK: Objects

    /// Streams `range` of a blob's object; when the range is the whole blob and the cache takes it, a copy is kept
    /// as the bytes pass.
    private func readObject(
        _ digest: BlobDigest, range: Range<Int64>, chunkSize: Int, _ body: (ByteBuffer) async throws -> Void
    ) async throws {
        let response = try await send(
            .GET, path: location.path(of: digest.hex),
            headers: [("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")])
        guard response.status == .partialContent || response.status == .ok else {
            let text = try await Self.text(response)
            if response.status == .notFound || response.status == .rangeNotSatisfiable {
                throw BlobStoreError(
                    code: .missingBlob,
                    message: "blob \(digest) (bytes \(range)) is not in s3://\(location.bucket)/\(location.prefix)")
            }
            throw failure("reading blob \(digest)", response.status, text)
        }
        var copy: BlobCacheCopy?
        if let cache, range.lowerBound == 0, Self.objectSize(response) == range.upperBound {
            copy = await cache.beginCopy(of: digest, size: range.upperBound)
        }
        var remaining = range.count
        do {
            for try await var buffer in response.body {
                while buffer.readableBytes > 0 && remaining > 0 {
                    let length = min(buffer.readableBytes, chunkSize, remaining)
                    let chunk = buffer.readSlice(length: length)!
                    remaining -= length
                    await copy?.write(chunk)
                    try await body(chunk)
                }
            }
        } catch {
            await copy?.abandon()
            throw error
        }
        if remaining > 0 {
            await copy?.abandon()
            throw BlobStoreError(
                code: .io, message: "blob \(digest) ended \(remaining) bytes early while read from the object store")
        }
        await copy?.finish()
    }

    /// The whole object's size an answer to a ranged GET states: `Content-Range: bytes a-b/SIZE`, or the length of
    /// a whole-object answer.
    static func objectSize(_ response: HTTPClientResponse) -> Int64? {
        if response.status == .ok { return response.headers.first(name: "content-length").flatMap { Int64($0) } }
        guard let range = response.headers.first(name: "content-range"), let slash = range.lastIndex(of: "/") else {
            return nil
        }
        return Int64(range[range.index(after: slash)...])
    }

    // MARK: Requests

    /// The blob's size from a HEAD, or nil when the store does not have it.
    func size(of digest: BlobDigest) async throws -> Int64? {
        let response = try await send(.HEAD, path: location.path(of: digest.hex))
        _ = try await Self.text(response)
        if response.status == .notFound { return nil }
        guard response.status == .ok else { throw failure("looking up blob \(digest)", response.status, "") }
        guard let length = response.headers.first(name: "content-length").flatMap(Int64.init) else {
            throw failure("looking up blob \(digest) (no Content-Length)", response.status, "")
        }
        remember(digest)
        return length
    }

    func remember(_ digest: BlobDigest) {
        known.withLock {
            // A bounded hint, not an index: forget everything rather than grow without end.
            if $0.count >= 100_000 { $0.removeAll(keepingCapacity: true) }
            $0.insert(digest)
        }
    }

    /// Sends a signed request; a store that cannot be reached is ``StorageUnavailable``, which clients may retry.
    func send(
        _ method: HTTPMethod, path: String, headers: [(String, String)] = [], body: HTTPClientRequest.Body? = nil
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: location.endpoint + SigV4.uriEncode(path, keepSlash: true))
        request.method = method
        request.headers.add(name: "host", value: location.host)
        for (name, value) in signer.headers(method: method.rawValue, host: location.host, path: path) {
            request.headers.add(name: name, value: value)
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = body
        do {
            return try await client.execute(request, timeout: Self.timeout)
        } catch {
            throw StorageUnavailable(
                .blobs, "cannot reach the object store at \(location.endpoint) (\(method) \(path)): \(error)")
        }
    }

    static func text(_ response: HTTPClientResponse) async throws -> String {
        String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    /// The error for an answer that is not the one expected: ``StorageUnavailable`` for a server error (the store is
    /// failing or overloaded and a retry may succeed), ``ObjectStoreError`` for a refusal that will not change.
    func failure(_ what: String, _ status: HTTPResponseStatus, _ body: String) -> any Error {
        if status.code >= 500 {
            return StorageUnavailable(
                .blobs, "\(what) at \(location.endpoint): HTTP \(status.code) \(body.prefix(300))")
        }
        let hint =
            switch status.code {
            case 403: " (check the access key and secret the object store was configured with)"
            case 404 where body.contains("NoSuchBucket"): " (create the bucket, or let cairn create it)"
            default: ""
            }
        return ObjectStoreError(
            "\(what) at \(location.endpoint): HTTP \(status.code)\(hint) \(body.prefix(300))", status: Int(status.code))
    }
}
