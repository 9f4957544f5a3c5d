import CairnCore
import HTTPTypes
import Hummingbird
import NIOCore

extension S3Service {
    /// A response complete in memory: its head and, for a GET, its whole body.
    public struct ImmediateResponse: Sendable {
        public var head: HTTPResponse
        public var body: ByteBuffer?
    }

    /// How a read is answered without a task: now, or once a thread-pool job has read its blob.
    public enum ImmediateAnswer: Sendable {
        case now(ImmediateResponse)
        case afterRead(EventLoopFuture<ImmediateResponse>)
    }

    /// Answers a GET or HEAD of an object on the connection's event loop, without a task, when its metadata is
    /// already in memory: the signature checks out, the object's row is cached and, for a GET, the object is one
    /// blob of at most ``singleReadLimit`` bytes to send. A blob held or cached in memory is answered now; any other
    /// is read by one thread-pool job whose result comes back to `eventLoop` (`afterRead`), since the hops of a
    /// task cost a small GET more than the read itself. Anything else — another operation, a sub-resource, a failed
    /// check, an error to report, a metadata cache miss — is nil, and the request takes the normal path, which
    /// answers it the same way or with the error. A failed read does too: the caller passes the request on.
    ///
    /// The answer is the one ``respond(to:requestID:fileSender:)`` gives (both build it with the same functions),
    /// minus the suspension points: the server calls this on the connection's event loop, so it must stay cheap
    /// and never block.
    public func immediateResponse(to head: HTTPRequest, requestID: String, eventLoop: any EventLoop)
        -> ImmediateAnswer?
    {
        // A browser's request (Origin) may need CORS headers, which take a bucket lookup: the normal path adds them.
        guard head.method == .get || head.method == .head, !head.headerFields.contains(.origin) else { return nil }
        guard
            let s3 = try? authenticate(
                head, body: RequestBody(buffer: ByteBuffer()), requestID: requestID, fileSender: nil),
            let bucket = s3.bucket, let key = s3.key,
            s3.query.allSatisfy({ Self.isPlainReadParameter($0.name) }),
            let object = metadata.cachedObject(bucket: bucket, key: key),
            let (status, headers, range) = try? planRead(s3, object: object)
        else { return nil }
        let accessLog = self.accessLog
        @Sendable func answer(body: ByteBuffer?) -> ImmediateResponse {
            if status != .notModified { accessLog?.record(bucket: bucket, key: key) }
            // Built as the normal path builds its response, so that both add the same framing headers.
            let response = Response(
                status: status, headers: headers, body: body.map { ResponseBody(byteBuffer: $0) } ?? .init())
            return ImmediateResponse(
                head: HTTPResponse(status: response.status, headerFields: response.headers), body: body)
        }
        guard status == .ok || status == .partialContent, head.method == .get else { return .now(answer(body: nil)) }
        guard object.segments.count == 1, range.count <= Self.singleReadLimit else { return nil }
        let digest = object.segments[0].digest
        if let held = blobs.inMemory(digest) {
            guard range.upperBound <= held.readableBytes else { return nil }
            return .now(answer(body: held.getSlice(at: held.readerIndex + Int(range.lowerBound), length: range.count)))
        }
        return .afterRead(blobs.read(digest, range: range, on: eventLoop).map { answer(body: $0) })
    }

    /// Query parameters that leave a GET or HEAD a plain read of the object: presigned-URL authentication (SigV4's
    /// and SigV2's), response header overrides, and the operation name some SDKs add.
    static func isPlainReadParameter(_ name: String) -> Bool {
        name.hasPrefix("X-Amz-") || name.hasPrefix("response-") || name == "x-id" || name == "AWSAccessKeyId"
            || name == "Signature" || name == "Expires"
    }
}
