import CairnCore
import CairnHTTP
import CairnS3
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The server's single responder: `/_cairn/…` goes to Cairn's own routes, everything else is S3.
///
/// Every response carries a request id (`x-amz-request-id`, `x-amz-id-2`), as S3's do.
struct CairnResponder<Routes: HTTPResponder>: HTTPResponder where Routes.Context == BasicRequestContext {
    typealias Context = CairnRequestContext

    let s3: S3Service
    let routes: Routes
    /// Whether connections carry a ``FileRegionHandler`` (plain HTTP, not TLS), so S3 GETs may send blob files.
    let sendsFiles: Bool

    static var reservedPrefix: String { "/_cairn/" }

    func respond(to request: Request, context: Context) async throws -> Response {
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
            }
        } else {
            response = await s3.respond(to: request, requestID: requestID, fileSender: fileSender)
        }
        Self.stamp(&response.headers, requestID: requestID)
        return response
    }

    /// An S3 GET or HEAD answered on the event loop (see ``ImmediateReadHandler``), or nil.
    func immediateResponse(to head: HTTPRequest, eventLoop: any EventLoop) -> ImmediateReadHandler.Answer? {
        guard let path = head.path, !path.hasPrefix("/_cairn") else { return nil }
        let requestID = Self.newRequestID()
        @Sendable func stamped(_ response: S3Service.ImmediateResponse) -> ImmediateReadHandler.Response {
            var head = response.head
            Self.stamp(&head.headerFields, requestID: requestID)
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
