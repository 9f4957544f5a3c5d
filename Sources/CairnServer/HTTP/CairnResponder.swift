import CairnCache
import CairnCore
import CairnHTTP
import CairnS3
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The server's single responder: `/_cairn/…` goes to Cairn's own routes, everything else is S3.
///
/// Every response carries a request id (`x-amz-request-id`, `x-amz-id-2`), as S3's do, and every request is counted
/// in ``ServerMetrics`` here, at the one boundary all of them cross.
struct CairnResponder<Routes: HTTPResponder>: HTTPResponder where Routes.Context == BasicRequestContext {
    typealias Context = CairnRequestContext

    let s3: S3Service
    let routes: Routes
    /// Whether connections carry a ``FileRegionHandler`` (plain HTTP, not TLS), so S3 GETs may send blob files.
    let sendsFiles: Bool
    /// The series requests are counted in; nil when `metrics.enabled` is false.
    let metrics: ServerMetrics?
    /// As the S3 front end is configured, so that metrics name the bucket of a virtual-host-style request.
    let virtualHostDomain: String?

    static var reservedPrefix: String { "/_cairn/" }

    func respond(to request: Request, context: Context) async throws -> Response {
        guard let metrics else { return try await answer(request, context: context) }
        let start = NIODeadline.now().uptimeNanoseconds
        let declared = Int64(request.headers[.contentLength] ?? "") ?? 0
        var request = request
        var received: CountedRequestBody.Tally?
        if declared > 0 || request.headers[.transferEncoding] != nil {
            // What was read, not what was declared: a chunked body declares nothing.
            let tally = CountedRequestBody.Tally()
            request.body = RequestBody(asyncSequence: CountedRequestBody(base: request.body, count: tally))
            received = tally
            metrics.uploadsInFlight.increment()
        }
        defer { if received != nil { metrics.uploadsInFlight.decrement() } }
        var response = try await answer(request, context: context)
        let slot = metrics.requestSlot(
            RequestLabels(request.head, virtualHostDomain: virtualHostDomain), status: response.status.code)
        let sent =
            request.method == .head
            ? 0 : Int64(response.body.contentLength ?? response.headers[.contentLength].flatMap { Int($0) } ?? 0)
        let firstByte = Self.nanoseconds(since: start)
        // A small body of known length is written at once: its total is its time to first byte. Wrapping it in a
        // writing closure would cost every small response a detour; only streamed bodies are timed to their end.
        if let length = response.body.contentLength, length <= Self.timedBodyThreshold {
            metrics.recordRequest(
                slot: slot, received: received?.value ?? 0, sent: sent, firstByteNanoseconds: firstByte,
                durationNanoseconds: firstByte)
        } else {
            metrics.recordRequest(
                slot: slot, received: received?.value ?? 0, sent: sent, firstByteNanoseconds: firstByte,
                durationNanoseconds: nil)
            let body = response.body
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                defer { metrics.recordDuration(slot: slot, nanoseconds: Self.nanoseconds(since: start)) }
                try await body.write(writer)
            }
        }
        return response
    }

    /// The response to a request, stamped with a new request id: Cairn's own routes or S3.
    private func answer(_ request: Request, context: Context) async throws -> Response {
        let requestID = Self.newRequestID()
        var response: Response
        let fileSender: (any FileBodySender)? = sendsFiles ? ChannelFileSender(channel: context.channel) : nil
        if request.uri.path.hasPrefix(Self.reservedPrefix) || request.uri.path == "/_cairn" {
            do {
                let basic = BasicRequestContext(source: .init(channel: context.channel, logger: context.logger))
                response = try await ConnectionFileSender.$current.withValue(fileSender) {
                    try await routes.respond(to: request, context: basic)
                }
            } catch let error as any HTTPResponseError {
                response = try error.response(from: request, context: context)
            } catch let error as StorageUnavailable {
                context.logger.warning("\(error)", metadata: ["http.path": "\(request.uri.path)"])
                response = try CacheError.unavailable(error).response(from: request, context: context)
            }
        } else {
            response = await s3.respond(to: request, requestID: requestID, fileSender: fileSender)
        }
        Self.stamp(&response.headers, requestID: requestID)
        return response
    }

    /// Bodies up to this size are not timed to their last byte (see ``respond(to:context:)``).
    static var timedBodyThreshold: Int { 64 * 1024 }

    private static func nanoseconds(since start: UInt64) -> Int64 {
        Int64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds &- start)
    }

    /// An S3 GET or HEAD answered on the event loop (see ``ImmediateReadHandler``), or nil.
    func immediateResponse(to head: HTTPRequest, eventLoop: any EventLoop) -> ImmediateReadHandler.Answer? {
        guard let path = head.path, !path.hasPrefix("/_cairn") else { return nil }
        let start = NIODeadline.now().uptimeNanoseconds
        let requestID = Self.newRequestID()
        let metrics = metrics
        let virtualHostDomain = virtualHostDomain
        let requestHead = head
        @Sendable func stamped(_ response: S3Service.ImmediateResponse) -> ImmediateReadHandler.Response {
            var head = response.head
            Self.stamp(&head.headerFields, requestID: requestID)
            metrics?.recordWhole(
                RequestLabels(requestHead, virtualHostDomain: virtualHostDomain), status: response.head.status.code,
                received: 0, sent: Int64(response.body?.readableBytes ?? 0), nanoseconds: Self.nanoseconds(since: start)
            )
            return ImmediateReadHandler.Response(head: head, body: response.body)
        }
        switch s3.immediateResponse(to: head, requestID: requestID, eventLoop: eventLoop) {
        case nil: return nil
        case .now(let response): return .now(stamped(response))
        case .afterRead(let response): return .later(response.map(stamped))
        }
    }

    static func newRequestID() -> String { RequestID.next() }

    /// The headers every response carries.
    static func stamp(_ headers: inout HTTPFields, requestID: String) {
        RequestID.stamp(&headers, requestID: requestID)
    }
}

/// Request ids unique to a server's lifetime: a random prefix chosen at start and a counter, 16 uppercase hex digits
/// like S3's (drawing random bytes for every request cost more than the rest of building the id).
enum RequestID {
    static func next() -> String {
        let number = prefix | (counter.wrappingAdd(1, ordering: .relaxed).oldValue & 0xFFFF_FFFF)
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for index in 0..<16 {
                let digit = UInt8((number >> (60 - 4 * UInt64(index))) & 0xF)
                buffer[index] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "A") - 10 + digit
            }
            return 16
        }
    }

    /// Adds the headers every response carries: the request id (twice, as S3 sends it) and the server's name.
    static func stamp(_ headers: inout HTTPFields, requestID: String) {
        headers[name] = requestID
        headers[extendedName] = requestID
        headers[.server] = "Cairn"
    }

    static let name = HTTPField.Name("x-amz-request-id")!
    static let extendedName = HTTPField.Name("x-amz-id-2")!
    private static let prefix: UInt64 = SecureRandom.bytes(4).reduce(0) { $0 << 8 | UInt64($1) } << 32
    private static let counter = Atomic<UInt64>(0)
}
