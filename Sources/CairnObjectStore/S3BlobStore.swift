import AsyncHTTPClient
import CairnCore
import CairnSigV4
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Blobs as objects in an S3-compatible store (AWS S3, Ceph RGW, SeaweedFS, MinIO, Garage), shared by any number of
/// server nodes.
///
/// Keys are content addresses under the location's prefix (`prefix/ab/abcdef…`), so a blob is stored once however
/// many nodes receive it. A new blob streams into a local temp file while it is hashed (``S3BlobWriter``), then is
/// PUT with its length known, unless the store already holds it; ``BlobWriter/commit()`` returns once the store
/// answered the PUT, so metadata written afterwards names a blob every node can read. Reads stream ranges of the
/// object. Nothing here is a source of truth: the staging directory holds only uploads in flight.
public final class S3BlobStore: BlobStore {
    public let location: ObjectStoreLocation
    /// Where uploads are hashed and staged before their PUT (a directory of this node).
    let staging: FileBlobStore
    let client: HTTPClient
    let signer: SigV4Signer
    /// Blobs this node stored or saw stored: what ``contains(_:)`` can answer without a request.
    let known = Mutex<Set<BlobDigest>>([])

    static let timeout = TimeAmount.minutes(10)

    /// - Parameter stagingDirectory: a local directory for uploads in flight (created when missing).
    public init(
        location: ObjectStoreLocation, stagingDirectory: String, client: HTTPClient = S3BlobStore.defaultClient
    ) throws {
        self.location = location
        self.staging = try FileBlobStore(dataDirectory: stagingDirectory)
        self.client = client
        self.signer = SigV4Signer(
            accessKeyID: location.accessKeyID, secretAccessKey: location.secretAccessKey, region: location.region)
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
    /// ask ``storedSizes(_:)`` for the store's answer.
    public func contains(_ digest: BlobDigest) -> Bool {
        known.withLock { $0.contains(digest) }
    }

    /// Always nil: no blob is held in memory.
    public func inMemory(_ digest: BlobDigest) -> ByteBuffer? { nil }

    /// The sizes the store reports (a HEAD each, several at once).
    public func storedSizes(_ digests: [BlobDigest]) async throws -> [Int64?] {
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
        S3BlobWriter(staged: try staging.makeWriter(checksum: checksum, expectedSize: expectedSize), store: self)
    }

    /// Removes staged uploads that never finished (at start-up).
    public func removeTemporaryFiles() throws -> Int {
        try staging.removeTemporaryFiles()
    }

    public func readChunks(
        of digest: BlobDigest, range: Range<Int64>, chunkSize: Int, _ body: (ByteBuffer) async throws -> Void
    ) async throws {
        guard !range.isEmpty else { return }
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
        var remaining = range.count
        for try await var buffer in response.body {
            while buffer.readableBytes > 0 && remaining > 0 {
                let length = min(buffer.readableBytes, chunkSize, remaining)
                let chunk = buffer.readSlice(length: length)!
                remaining -= length
                try await body(chunk)
            }
        }
        if remaining > 0 {
            throw BlobStoreError(
                code: .io, message: "blob \(digest) ended \(remaining) bytes early while read from the object store")
        }
    }

    public func read(_ digest: BlobDigest, range: Range<Int64>) async throws -> ByteBuffer {
        var whole = ByteBufferAllocator().buffer(capacity: Int(range.count))
        try await readChunks(of: digest, range: range, chunkSize: 1 << 20) { chunk in
            var chunk = chunk
            whole.writeBuffer(&chunk)
        }
        return whole
    }

    public func read(_ digest: BlobDigest, range: Range<Int64>, on eventLoop: any EventLoop)
        -> EventLoopFuture<ByteBuffer>
    {
        eventLoop.makeFutureWithTask { try await self.read(digest, range: range) }
    }

    public func read(
        _ segments: [BlobSegment], header: @escaping @Sendable (BlobSegment) -> [UInt8]
    ) async throws -> ByteBuffer {
        var whole = ByteBufferAllocator().buffer(capacity: 0)
        for segment in segments {
            whole.writeBytes(header(segment))
            var content = try await read(segment.digest, range: 0..<segment.size)
            whole.writeBuffer(&content)
        }
        return whole
    }

    /// Always nil: blobs are not local files.
    public func openFile(_ digest: BlobDigest) async throws -> OpenBlobFile? { nil }

    public func remove(_ digest: BlobDigest) async throws {
        known.withLock { _ = $0.remove(digest) }
        let response = try await send(.DELETE, path: location.path(of: digest.hex))
        let text = try await Self.text(response)
        guard (200..<300).contains(response.status.code) || response.status == .notFound else {
            throw failure("removing blob \(digest)", response.status, text)
        }
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
