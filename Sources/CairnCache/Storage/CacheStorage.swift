import CairnCore
import CairnHTTP
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The store operations every cache protocol shares: stream a body into a blob, serve a blob, and read an entry
/// only when every blob it names is still there.
public struct CacheStorage: Sendable {
    public let blobs: any BlobStore
    public let metadata: any MetadataStore
    public let accessLog: AccessLog?
    /// The largest entry accepted; larger uploads get 413.
    public let maximumEntrySize: Int64

    public init(blobs: any BlobStore, metadata: any MetadataStore, accessLog: AccessLog?, maximumEntrySize: Int64) {
        self.blobs = blobs
        self.metadata = metadata
        self.accessLog = accessLog
        self.maximumEntrySize = maximumEntrySize
    }

    /// Streams a request body into a committed blob; with `expected`, a body with another SHA-256 is refused.
    public func receiveBlob(_ request: Request, expected: BlobDigest? = nil) async throws -> BlobSegment {
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > maximumEntrySize {
            throw Self.tooLarge(maximumEntrySize)
        }
        let writer = try blobs.makeWriter(expectedSize: request.headers[.contentLength].flatMap { Int64($0) })
        do {
            for try await buffer in request.body {
                try await writer.write(buffer)
                if writer.bytesWritten > maximumEntrySize { throw Self.tooLarge(maximumEntrySize) }
            }
            let summary = try await writer.finish()
            if let expected, expected != summary.digest {
                throw CacheError.badRequest(
                    "DigestMismatch", "the body's SHA-256 is \(summary.digest), not \(expected) as the path says"
                )
            }
            let digest = try await writer.commit()
            let segment = BlobSegment(digest: digest, size: summary.size)
            try await metadata.registerBlobs([segment])
            return segment
        } catch let error as BlobStoreError where error.code == .diskFull {
            await writer.discard()
            throw CacheError(
                .init(code: 507), "InsufficientStorage", "the server has no space left; nothing was stored")
        } catch {
            await writer.discard()
            throw error
        }
    }

    static func tooLarge(_ limit: Int64) -> CacheError {
        CacheError(.contentTooLarge, "EntityTooLarge", "the entry is larger than the limit of \(limit) bytes")
    }

    /// The entry when it and every blob it names are present; nil (a miss) otherwise. Records the access.
    public func liveEntry(namespace: String, key: String) async throws -> ActionEntry? {
        guard let entry = try await metadata.entry(namespace: namespace, key: key) else { return nil }
        let sizes = try await blobs.storedSizes([entry.value.digest] + entry.references)
        if sizes.contains(where: { $0 == nil }) { return nil }
        accessLog?.recordEntry(namespace: namespace, key: key)
        return entry
    }

    /// A response that streams a blob (no body for HEAD).
    public func blobResponse(
        _ segment: BlobSegment, head: Bool, contentType: String = "application/octet-stream", headers: HTTPFields = [:]
    ) -> Response {
        var fields = headers
        fields[.contentType] = contentType
        fields[.contentLength] = String(segment.size)
        if head { return Response(status: .ok, headers: fields) }
        let blobs = self.blobs
        let sender = ConnectionFileSender.current
        let body = ResponseBody(contentLength: Int(segment.size)) { writer in
            try await blobs.send(segment.digest, range: 0..<segment.size, sender: sender, through: &writer)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: fields, body: body)
    }

    /// A response that streams many blobs, each a ``BlobFrame``, with an exact Content-Length so
    /// that a client notices a cut-off stream. Small blobs are read up to 1 MiB per thread-pool job; a larger
    /// one streams in chunks.
    public func batchResponse(_ segments: [BlobSegment]) -> Response {
        let length = BlobFrame.streamLength(of: segments)
        var fields = HTTPFields()
        fields[.contentType] = BlobFrame.mediaType
        fields[.contentLength] = String(length)
        let blobs = self.blobs
        // Runs of small blobs become groups of up to 1 MiB, each read by one thread-pool job; a larger blob is a
        // group of its own and streams in chunks.
        let groupBytes: Int64 = 1 << 20
        var groups: [[BlobSegment]] = []
        var bytes: Int64 = 0
        for segment in segments {
            let small = segment.size <= groupBytes
            if let last = groups.last, small, last[0].size <= groupBytes, bytes + segment.size <= groupBytes {
                groups[groups.count - 1].append(segment)
                bytes += segment.size
            } else {
                groups.append([segment])
                bytes = segment.size
            }
        }
        let planned = groups
        let sender = ConnectionFileSender.current
        let body = ResponseBody(contentLength: length) { writer in
            let groups = planned
            // The next group of small blobs is read while the current one is being sent.
            func read(_ index: Int) async throws -> ByteBuffer? {
                guard index < groups.count, groups[index][0].size <= groupBytes else { return nil }
                return try await blobs.read(groups[index], header: BlobFrame.header(for:))
            }
            var current = try await read(0)
            for index in groups.indices {
                async let next = read(index + 1)
                if let buffer = current {
                    try await writer.write(buffer)
                } else {
                    let segment = groups[index][0]
                    try await writer.write(ByteBuffer(bytes: BlobFrame.header(for: segment)))
                    try await blobs.send(segment.digest, range: 0..<segment.size, sender: sender, through: &writer)
                }
                current = try await next
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: fields, body: body)
    }

    /// Reads a small body (JSON), refusing more than `limit` bytes.
    public func smallBody(_ request: Request, limit: Int = 16 << 20) async throws -> Data {
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch {
            throw CacheError(.contentTooLarge, "EntityTooLarge", "the request body is larger than \(limit) bytes")
        }
    }
}

extension Response {
    static func json(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(data.count)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func empty(_ status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        if status != .noContent { headers[.contentLength] = "0" }
        return Response(status: status, headers: headers)
    }
}
