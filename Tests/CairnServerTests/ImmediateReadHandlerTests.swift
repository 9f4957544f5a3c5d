import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import CairnServer

/// ``ImmediateReadHandler`` answers what its answer function answers, in order with the requests passed on, and
/// passes on everything else untouched.
@Suite("Immediate read handler")
struct ImmediateReadHandlerTests {
    /// Answers GET /fast with "fast" and nothing else.
    static func makeChannel() throws -> EmbeddedChannel {
        let handler = ImmediateReadHandler { head in
            guard head.path == "/fast" else { return nil }
            return (HTTPResponse(status: .ok, headerFields: [.contentLength: "4"]), ByteBuffer(string: "fast"))
        }
        return EmbeddedChannel(handler: handler)
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
