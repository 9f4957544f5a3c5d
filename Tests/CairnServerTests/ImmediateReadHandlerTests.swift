import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import CairnServer

/// ``ImmediateReadHandler`` answers what its answer function answers, now or later, in order with the requests
/// passed on, and passes on everything else untouched.
@Suite("Immediate read handler")
struct ImmediateReadHandlerTests {
    static let fast = ImmediateReadHandler.Response(
        head: HTTPResponse(status: .ok, headerFields: [.contentLength: "4"]), body: ByteBuffer(string: "fast"))

    /// The promises of the later answers asked for so far, in order.
    final class Promises: @unchecked Sendable {  // only touched on the embedded event loop
        var pending: [EventLoopPromise<ImmediateReadHandler.Response>] = []
    }

    /// Counts the reads the handler lets through to the socket.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Never
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    /// Answers GET /fast with "fast" at once, GET /later with a promise of `promises`, and nothing else.
    static func makeChannel(_ promises: Promises = Promises(), reads: ReadCounter = ReadCounter()) throws
        -> EmbeddedChannel
    {
        let handler = ImmediateReadHandler { head, eventLoop in
            switch head.path {
            case "/fast": return .now(fast)
            case "/later":
                let promise = eventLoop.makePromise(of: ImmediateReadHandler.Response.self)
                promises.pending.append(promise)
                return .later(promise.futureResult)
            default: return nil
            }
        }
        let channel = EmbeddedChannel(handlers: [reads, handler])
        // Connected, as a server's channel is while it reads requests.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9000)).wait()
        return channel
    }

    /// A channel awaiting the answer to GET /later, with a request for `path` held behind it.
    static func awaitingLater(then path: String) throws -> (EmbeddedChannel, Promises) {
        let promises = Promises()
        let channel = try makeChannel(promises)
        try send(channel, request("/later"))
        try send(channel, request(path))
        return (channel, promises)
    }

    /// The body of a written head, body, end; nil when `parts` is not one whole response.
    static func body(of parts: ArraySlice<HTTPResponsePart>) -> ByteBuffer? {
        guard parts.count == 3, case .head = parts.first, case .body(let body) = parts.dropFirst().first,
            case .end = parts.last
        else { return nil }
        return body
    }

    static func request(_ path: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:]) -> HTTPRequest {
        HTTPRequest(method: method, scheme: nil, authority: "test", path: path, headerFields: headers)
    }

    /// Sends a whole request (head, then end) in.
    static func send(_ channel: EmbeddedChannel, _ head: HTTPRequest, body: String? = nil) throws {
        try channel.writeInbound(HTTPRequestPart.head(head))
        if let body { try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: body))) }
        try channel.writeInbound(HTTPRequestPart.end(nil))
    }

    /// The parts the handler wrote out so far.
    static func written(_ channel: EmbeddedChannel) throws -> [HTTPResponsePart] {
        var parts: [HTTPResponsePart] = []
        while let part = try channel.readOutbound(as: HTTPResponsePart.self) { parts.append(part) }
        return parts
    }

    /// The requests passed on so far, as paths (heads only; bodies and ends are counted).
    static func passedOn(_ channel: EmbeddedChannel) throws -> (paths: [String], otherParts: Int) {
        var paths: [String] = []
        var others = 0
        while let part = try channel.readInbound(as: HTTPRequestPart.self) {
            if case .head(let head) = part { paths.append(head.path ?? "") } else { others += 1 }
        }
        return (paths, others)
    }

    @Test("A request it can answer is answered at once and not passed on; others are passed on whole")
    func answersOrPassesOn() throws {
        let channel = try Self.makeChannel()
        try Self.send(channel, Self.request("/fast"))
        let parts = try Self.written(channel)
        #expect(parts.count == 3)
        guard parts.count == 3, case .head(let head) = parts[0], case .body(let body) = parts[1], case .end = parts[2]
        else {
            Issue.record("expected head, body, end: \(parts)")
            return
        }
        #expect(head.status == .ok)
        #expect(body == ByteBuffer(string: "fast"))
        #expect(try Self.passedOn(channel).paths.isEmpty)

        try Self.send(channel, Self.request("/slow"))
        #expect(try Self.written(channel).isEmpty)
        let passed = try Self.passedOn(channel)
        #expect(passed.paths == ["/slow"])
        #expect(passed.otherParts == 1)
        _ = try channel.finish()
    }

    @Test("While an earlier request is still being answered above, a later one waits its turn (it is passed on)")
    func keepsResponseOrder() throws {
        let channel = try Self.makeChannel()
        try Self.send(channel, Self.request("/slow"))
        try Self.send(channel, Self.request("/fast"))
        #expect(try Self.written(channel).isEmpty, "/fast must not overtake /slow")
        #expect(try Self.passedOn(channel).paths == ["/slow", "/fast"])

        // The two responses from above end; then a new /fast is answered here again.
        for _ in 0..<2 {
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
        }
        #expect(try Self.written(channel).count == 4)
        try Self.send(channel, Self.request("/fast"))
        #expect(try Self.written(channel).count == 3)
        #expect(try Self.passedOn(channel).paths.isEmpty)

        // One still open above holds back the next.
        try Self.send(channel, Self.request("/slow"))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try Self.send(channel, Self.request("/fast"))
        #expect(try Self.passedOn(channel).paths == ["/slow", "/fast"])
        _ = try channel.finish()
    }

    @Test("A later answer is written when its read completes; requests meanwhile wait, and so does reading")
    func laterAnswer() throws {
        let (promises, reads) = (Promises(), ReadCounter())
        let channel = try Self.makeChannel(promises, reads: reads)
        let readsBefore = reads.reads
        try Self.send(channel, Self.request("/later"))
        #expect(promises.pending.count == 1)
        // Pipelined behind it: one this handler answers, one it passes on, then a third answer.
        try Self.send(channel, Self.request("/fast"))
        try Self.send(channel, Self.request("/slow"))
        try Self.send(channel, Self.request("/fast"))
        channel.read()
        #expect(reads.reads == readsBefore, "the connection reads no more while an answer is awaited")
        #expect(try Self.written(channel).isEmpty, "nothing may overtake the awaited answer")
        #expect(try Self.passedOn(channel).paths.isEmpty)

        let later = ImmediateReadHandler.Response(
            head: HTTPResponse(status: .ok, headerFields: [.contentLength: "5"]), body: ByteBuffer(string: "later"))
        promises.pending[0].succeed(later)
        let parts = try Self.written(channel)
        #expect(parts.count == 6, "the later answer, then the /fast behind it; the /slow one goes above")
        #expect(Self.body(of: parts.prefix(3)) == ByteBuffer(string: "later"))
        #expect(Self.body(of: parts.dropFirst(3).prefix(3)) == ByteBuffer(string: "fast"))
        let passed = try Self.passedOn(channel)
        #expect(passed.paths == ["/slow", "/fast"], "the last /fast waits for /slow's answer from above")
        #expect(passed.otherParts == 2)
        #expect(reads.reads == readsBefore + 1, "the held read goes through")

        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        _ = try Self.written(channel)
        try Self.send(channel, Self.request("/fast"))
        #expect(Self.body(of: try Self.written(channel)[...]) == ByteBuffer(string: "fast"))
        _ = try channel.finish()
    }

    @Test("A later answer that fails passes its request on, ahead of the requests held behind it")
    func failedLaterAnswer() throws {
        let (channel, promises) = try Self.awaitingLater(then: "/fast")
        struct ReadFailed: Error {}
        promises.pending[0].fail(ReadFailed())
        #expect(try Self.written(channel).isEmpty, "/fast waits for the failed request's answer from above")
        let passed = try Self.passedOn(channel)
        #expect(passed.paths == ["/later", "/fast"])
        #expect(passed.otherParts == 2, "each end goes with its request")
        _ = try channel.finish()
    }

    /// Records, in order, the request heads and events that reach it, and passes them on.
    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = HTTPRequestPart
        var seen: [String] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head(let head) = unwrapInboundIn(data) { seen.append(head.path ?? "") }
            context.fireChannelRead(data)
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            seen.append("event")
            context.fireUserInboundEventTriggered(event)
        }
    }

    @Test("The client closing its side while an answer is awaited is passed on after the requests before it")
    func inputClosedWhileAwaiting() throws {
        for succeeds in [true, false] {
            let (channel, promises) = try Self.awaitingLater(then: "/slow")
            let recorder = Recorder()
            try channel.pipeline.syncOperations.addHandler(recorder)
            channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            #expect(recorder.seen.isEmpty, "nothing goes on while /later is awaited")
            struct ReadFailed: Error {}
            if succeeds { promises.pending[0].succeed(Self.fast) } else { promises.pending[0].fail(ReadFailed()) }
            #expect(recorder.seen == (succeeds ? ["/slow", "event"] : ["/later", "/slow", "event"]))
            _ = try channel.finish()
        }
    }

    @Test("An answer that arrives after the connection closed is dropped")
    func closedBeforeAnswer() throws {
        let (channel, promises) = try Self.awaitingLater(then: "/slow")
        _ = try channel.finish(acceptAlreadyClosed: true)
        promises.pending[0].succeed(Self.fast)
        #expect(try Self.written(channel).isEmpty)
        #expect(try Self.passedOn(channel).paths.isEmpty)
    }

    @Test("Requests with a body, a closing connection or another method are passed on")
    func passesOnWhatItMustNot() throws {
        let channel = try Self.makeChannel()
        try Self.send(channel, Self.request("/fast", headers: [.connection: "close"]))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try Self.send(channel, Self.request("/fast", headers: [.contentLength: "4"]), body: "body")
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try Self.send(channel, Self.request("/fast", headers: [.transferEncoding: "chunked"]), body: "body")
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try Self.send(channel, Self.request("/fast", method: .put))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        let passed = try Self.passedOn(channel)
        #expect(passed.paths == ["/fast", "/fast", "/fast", "/fast"])
        #expect(passed.otherParts == 6, "every end and body passed on with its request")
        _ = try channel.finish()
    }
}

@Suite("Request ids")
struct RequestIDTests {
    @Test("ids are 16 uppercase hex digits and unique, also when drawn concurrently")
    func unique() async {
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<4 { group.addTask { (0..<5_000).map { _ in RequestID.next() } } }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(Set(ids).count == 20_000)
        #expect(
            ids.allSatisfy {
                $0.utf8.count == 16 && $0.utf8.allSatisfy { (48...57).contains($0) || (65...70).contains($0) }
            })
    }
}
