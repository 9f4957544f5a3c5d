import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers a read whose answer is already in memory on the connection's event loop, without handing the request
/// to Hummingbird's per-connection task: the hops between the event loop and Swift's task pool are a large part of
/// what a small cached GET costs (a quarter of its time, side by side on one key).
///
/// `answer` returns the whole response or nil; nil, and any request it is not asked about, goes on up the pipeline
/// as usual. Responses keep the requests' order: a request is only answered here while no earlier one is still
/// being answered above (every response passes back down through this handler, so its end is seen).
final class ImmediateReadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The response to a request head, with its body, or nil to pass the request on.
    typealias Answer = @Sendable (HTTPRequest) -> (head: HTTPResponse, body: ByteBuffer?)?

    private let answer: Answer
    /// Requests passed on whose responses have not ended yet.
    private var answeringAbove = 0
    /// The rest of a request answered here (its end) is dropped, not passed on.
    private var droppingRequest = false
    private var needsFlush = false

    init(answer: @escaping Answer) {
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let head):
            if answeringAbove == 0, context.channel.isWritable, Self.mayAnswer(head), let response = answer(head) {
                droppingRequest = true
                context.write(wrapOutboundOut(.head(response.head)), promise: nil)
                if let body = response.body, body.readableBytes > 0 {
                    context.write(wrapOutboundOut(.body(body)), promise: nil)
                }
                context.write(wrapOutboundOut(.end(nil)), promise: nil)
                needsFlush = true
                return
            }
            answeringAbove += 1
        case .body, .end:
            if droppingRequest {
                if case .end = part { droppingRequest = false }
                return
            }
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { answeringAbove -= 1 }
        context.write(data, promise: promise)
    }

    /// Only requests without a body, on a connection that stays open: closing is Hummingbird's to do.
    static func mayAnswer(_ head: HTTPRequest) -> Bool {
        guard head.method == .get || head.method == .head else { return false }
        if let length = head.headerFields[.contentLength], length != "0" { return false }
        if head.headerFields[.transferEncoding] != nil { return false }
        if let connection = head.headerFields[.connection], connection.lowercased().contains("close") { return false }
        return true
    }
}
