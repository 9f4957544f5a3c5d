import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers a small read on the connection's event loop, without handing the request to Hummingbird's
/// per-connection task: the hops between the event loop and Swift's task pool are a large part of what a small GET
/// costs (a quarter of its time when its blob is in memory, side by side on one key, and more when it is not).
///
/// `answer` returns a response now, one that comes later (its blob is being read by a thread-pool job), or nil;
/// nil, a later answer that fails, and any request it is not asked about go on up the pipeline as usual.
///
/// Responses keep the requests' order:
/// - a request is only answered here while no earlier one is still being answered above (every response passes
///   back down through this handler, so its end is seen);
/// - while a later answer is awaited, the parts of any further requests are held here, and the connection reads no
///   more (`read` is held too), so what is held is bounded by one read; they are handled in order once the answer
///   is written or passed on. Events that arrive meanwhile (the client closing its side) are held with them, so
///   that what is above never sees the input end before a request that came first.
final class ImmediateReadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// A whole response: its head and, for a GET, its body.
    struct Response: Sendable {
        var head: HTTPResponse
        var body: ByteBuffer?
    }

    enum Answer {
        case now(Response)
        /// Completes on the connection's event loop; a failure passes the request on.
        case later(EventLoopFuture<Response>)
    }

    /// The answer to a request head, or nil to pass the request on. Called on the connection's event loop.
    typealias Answering = @Sendable (HTTPRequest, any EventLoop) -> Answer?

    private let answer: Answering
    /// Requests passed on whose responses have not ended yet.
    private var answeringAbove = 0
    /// The rest of a request answered here (its end) is dropped, not passed on.
    private var droppingRequest = false
    private var needsFlush = false
    /// The head of the request whose later answer is awaited.
    private var awaited: HTTPRequest?
    /// What arrived while an answer was awaited, in order.
    private var held: [Held] = []
    /// Whether a `read` was held while an answer was awaited.
    private var readHeld = false

    private enum Held {
        case part(HTTPRequestPart)
        case event(Any)
    }

    init(answer: @escaping Answering) {
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if awaited != nil {
            held.append(.part(part))
            return
        }
        handle(part, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if awaited != nil {
            held.append(.event(event))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Answers a request here or passes `part` on; returns whether it was passed on.
    @discardableResult
    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) -> Bool {
        switch part {
        case .head(let head):
            if answeringAbove == 0, context.channel.isWritable, Self.mayAnswer(head),
                let answer = answer(head, context.eventLoop)
            {
                droppingRequest = true
                switch answer {
                case .now(let response):
                    write(response, context: context)
                case .later(let response):
                    awaited = head
                    response.assumeIsolated().whenComplete { result in
                        self.answered(result, context: context)
                    }
                }
                return false
            }
            answeringAbove += 1
        case .body, .end:
            if droppingRequest {
                if case .end = part { droppingRequest = false }
                return false
            }
        }
        context.fireChannelRead(wrapInboundOut(part))
        return true
    }

    private func write(_ response: Response, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(response.head)), promise: nil)
        if let body = response.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(body)), promise: nil)
        }
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
        needsFlush = true
    }

    /// The awaited answer is in: it is written, or its request is passed on; then the parts held meanwhile are
    /// handled, and reading resumes.
    private func answered(_ result: Result<Response, any Error>, context: ChannelHandlerContext) {
        guard let head = awaited else { return }
        awaited = nil
        guard context.channel.isActive else {
            held.removeAll()
            return
        }
        var passedOn = false
        switch result {
        case .success(let response):
            write(response, context: context)
        case .failure:
            // The normal path reads it again and answers with the error.
            droppingRequest = false
            answeringAbove += 1
            context.fireChannelRead(wrapInboundOut(.head(head)))
            passedOn = true
        }
        while awaited == nil, !held.isEmpty {
            switch held.removeFirst() {
            case .part(let part): if handle(part, context: context) { passedOn = true }
            case .event(let event): context.fireUserInboundEventTriggered(event)
            }
        }
        if passedOn { context.fireChannelReadComplete() }
        flushIfNeeded(context: context)
        if awaited == nil, readHeld {
            readHeld = false
            context.read()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
    }

    func read(context: ChannelHandlerContext) {
        if awaited != nil {
            readHeld = true
            return
        }
        context.read()
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
