import CairnCore
import CairnSigV4
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import CairnS3

/// ``S3Service/immediateResponse(to:requestID:eventLoop:)`` answers exactly as
/// ``S3Service/respond(to:requestID:fileSender:)`` does, or not at all: every read it answers is compared with the
/// normal path's answer to the same request.
@Suite("Reads answered on the event loop")
struct ImmediateReadTests {
    static let accessKeyID = "AKIDIMMEDIATE"
    static let secret = "immediate-read-secret"
    static let authority = "127.0.0.1:9000"

    /// A service over a fresh data directory, by default with a blob memory cache and journal as the server has.
    final class Fixture: Sendable {
        let directory: URL
        let service: S3Service
        let metadata: SQLiteMetadataStore

        init(memoryCacheBytes: Int = 1 << 20, journalBytes: Int = 1 << 20) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-immediate-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let blobs = try FileBlobStore(
                dataDirectory: directory.path, memoryCacheBytes: memoryCacheBytes, journalBytes: journalBytes)
            metadata = try SQLiteMetadataStore(dataDirectory: directory.path, blobs: blobs)
            let verifier = SigV4Verifier { $0 == ImmediateReadTests.accessKeyID ? ImmediateReadTests.secret : nil }
            service = S3Service(
                blobs: blobs, metadata: metadata, verifier: verifier, configuration: .init(),
                accessLog: AccessLog(metadata: metadata), logger: Logger(label: "test"))
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        /// What the normal path answers: status, headers without the request id, and the whole body.
        func respond(_ head: HTTPRequest, body: ByteBuffer = ByteBuffer()) async throws -> Answer {
            let response = await service.respond(
                to: Request(head: head, body: RequestBody(buffer: body)), requestID: "NORMAL")
            let sink = Sink()
            try await response.body.write(CollectingWriter(sink: sink))
            return Answer(status: response.status, headers: response.headers, body: sink.bytes)
        }

        /// What the event-loop path answers now (from memory), or nil.
        func immediate(_ head: HTTPRequest) -> Answer? {
            guard case .now(let response) = answer(head) else { return nil }
            return Answer(response)
        }

        /// What the event-loop path answers after a read off the event loop, or nil when it answers otherwise.
        func afterRead(_ head: HTTPRequest) async throws -> Answer? {
            guard case .afterRead(let response) = answer(head) else { return nil }
            return Answer(try await response.get())
        }

        func answer(_ head: HTTPRequest) -> S3Service.ImmediateAnswer? {
            service.immediateResponse(
                to: head, requestID: "NORMAL", eventLoop: MultiThreadedEventLoopGroup.singleton.next())
        }
    }

    struct Answer: Equatable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: ByteBuffer

        init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
            (self.status, self.headers, self.body) = (status, headers, body)
        }

        init(_ response: S3Service.ImmediateResponse) {
            self.init(status: response.head.status, headers: response.head.headerFields, body: response.body ?? .init())
        }
    }

    final class Sink: @unchecked Sendable {
        var bytes = ByteBuffer()
    }

    struct CollectingWriter: ResponseBodyWriter {
        let sink: Sink
        mutating func write(_ buffer: ByteBuffer) async throws {
            var buffer = buffer
            sink.bytes.writeBuffer(&buffer)
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    /// A request presigned (SigV4, query string) for `path`, now, with `query` signed along.
    static func presigned(
        _ method: HTTPRequest.Method, _ path: String, query: [(String, String)] = [], headers: HTTPFields = [:],
        secret: String = secret
    ) -> HTTPRequest {
        let signer = SigV4Signer(accessKeyID: accessKeyID, secretAccessKey: secret)
        let target = signer.presignedPath(
            method: method.rawValue, host: authority, path: path, query: query.map { ($0.0, $0.1) }, expires: 600)
        return HTTPRequest(method: method, scheme: nil, authority: authority, path: target, headerFields: headers)
    }

    static func without(_ answer: Answer, _ names: [String]) -> Answer {
        var answer = answer
        for name in names { answer.headers[HTTPField.Name(name)!] = nil }
        return answer
    }

    /// Stores objects, reads each once the normal way (which caches its row and bytes), then checks that the
    /// immediate answer equals a second normal answer.
    @Test("Whole, ranged, HEAD, 304 and overridden reads of a cached object answer as the normal path does")
    func sameAnswers() async throws {
        let fixture = try Fixture()
        #expect(try await fixture.respond(Self.presigned(.put, "/imm-bucket")).status == .ok)
        let content = ByteBuffer(bytes: (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        var putHeaders = HTTPFields()
        putHeaders[.contentType] = "text/x-test"
        putHeaders[HTTPField.Name("x-amz-meta-owner")!] = "ci"
        putHeaders[HTTPField.Name("x-amz-checksum-crc32")!] = ChecksumAlgorithm.crc32.checksum(
            of: Array(content.readableBytesView))
        let put = try await fixture.respond(
            Self.presigned(.put, "/imm-bucket/dir/a b+c", headers: putHeaders), body: content)
        #expect(put.status == .ok)
        let etag = try #require(put.headers[.eTag])

        let plain = Self.presigned(.get, "/imm-bucket/dir/a b+c")
        // The upload left the object's row and its small blob in memory: the first read is answered at once.
        #expect(fixture.immediate(plain)?.body == content, "a written object is answered from memory at once")
        let first = try await fixture.respond(plain)
        #expect(first.body == content)

        var ranged = HTTPFields()
        ranged[.range] = "bytes=100-4099"
        var matching = HTTPFields()
        matching[.ifNoneMatch] = etag
        var checksum = HTTPFields()
        checksum[HTTPField.Name("x-amz-checksum-mode")!] = "ENABLED"
        let requests: [(String, HTTPRequest)] = [
            ("plain GET", plain),
            ("HEAD", Self.presigned(.head, "/imm-bucket/dir/a b+c")),
            ("range", Self.presigned(.get, "/imm-bucket/dir/a b+c", headers: ranged)),
            ("If-None-Match", Self.presigned(.get, "/imm-bucket/dir/a b+c", headers: matching)),
            ("checksum mode", Self.presigned(.get, "/imm-bucket/dir/a b+c", headers: checksum)),
            (
                "override",
                Self.presigned(
                    .get, "/imm-bucket/dir/a b+c", query: [("response-content-type", "application/x-override")])
            ),
            ("x-id", Self.presigned(.get, "/imm-bucket/dir/a b+c", query: [("x-id", "GetObject")])),
        ]
        for (name, request) in requests {
            let normal = try await fixture.respond(request)
            let immediate = try #require(fixture.immediate(request), "\(name) was not answered from memory")
            #expect(immediate == normal, "\(name)")
        }
        let override = try #require(fixture.immediate(requests[5].1))
        #expect(override.headers[.contentType] == "application/x-override")
        #expect(fixture.immediate(requests[3].1)?.status == .notModified)
        #expect(fixture.immediate(requests[2].1)?.body == content.getSlice(at: 100, length: 4000))
    }

    @Test("Anything but a plain, valid read of a cached object is left to the normal path")
    func declines() async throws {
        let fixture = try Fixture()
        _ = try await fixture.respond(Self.presigned(.put, "/imm-bucket"))
        _ = try await fixture.respond(Self.presigned(.put, "/imm-bucket/k"), body: ByteBuffer(string: "hello"))
        let plain = Self.presigned(.get, "/imm-bucket/k")
        _ = try await fixture.respond(plain)
        #expect(fixture.immediate(plain)?.body == ByteBuffer(string: "hello"))

        var wrongTag = HTTPFields()
        wrongTag[.ifMatch] = "\"0000\""
        var badRange = HTTPFields()
        badRange[.range] = "bytes=10-20"
        let declined: [(String, HTTPRequest, HTTPResponse.Status)] = [
            ("wrong secret", Self.presigned(.get, "/imm-bucket/k", secret: "other"), .forbidden),
            ("sub-resource", Self.presigned(.get, "/imm-bucket/k", query: [("acl", "")]), .notImplemented),
            ("parts listing", Self.presigned(.get, "/imm-bucket/k", query: [("uploadId", "x")]), .notFound),
            ("failed If-Match", Self.presigned(.get, "/imm-bucket/k", headers: wrongTag), .preconditionFailed),
            ("range past the end", Self.presigned(.get, "/imm-bucket/k", headers: badRange), .rangeNotSatisfiable),
            ("missing key", Self.presigned(.get, "/imm-bucket/none"), .notFound),
            ("bucket listing", Self.presigned(.get, "/imm-bucket"), .ok),
            ("a write", Self.presigned(.delete, "/imm-bucket/other"), .noContent),
        ]
        for (name, request, status) in declined {
            #expect(fixture.immediate(request) == nil, "\(name)")
            #expect(try await fixture.respond(request).status == status, "\(name)")
        }

        // A write of the key replaces it in memory once it commits: the next read gets the new bytes either way.
        _ = try await fixture.respond(Self.presigned(.put, "/imm-bucket/k"), body: ByteBuffer(string: "world"))
        #expect(fixture.immediate(plain)?.body == ByteBuffer(string: "world"))
        #expect(try await fixture.respond(plain).body == ByteBuffer(string: "world"))
        // And a deleted key is never answered from memory.
        #expect(try await fixture.respond(Self.presigned(.delete, "/imm-bucket/k")).status == .noContent)
        #expect(fixture.immediate(plain) == nil)
        #expect(try await fixture.respond(plain).status == .notFound)
    }

    @Test("A cached object whose blob is not in memory is answered after one read of its row or file")
    func answersAfterRead() async throws {
        // No memory cache: nothing is kept after a read. With the journal, small blobs become rows; without it,
        // files.
        for journalBytes in [1 << 20, 0] {
            let fixture = try Fixture(memoryCacheBytes: 0, journalBytes: journalBytes)
            #expect(try await fixture.respond(Self.presigned(.put, "/imm-bucket")).status == .ok)
            let content = ByteBuffer(bytes: (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
            #expect(try await fixture.respond(Self.presigned(.put, "/imm-bucket/k"), body: content).status == .ok)
            _ = try await fixture.metadata.flushBlobJournal()
            let kind = journalBytes > 0 ? "row" : "file"

            var ranged = HTTPFields()
            ranged[.range] = "bytes=10-2009"
            for request in [
                Self.presigned(.get, "/imm-bucket/k"), Self.presigned(.get, "/imm-bucket/k", headers: ranged),
            ] {
                let normal = try await fixture.respond(request)
                #expect(fixture.immediate(request) == nil, "\(kind): the blob is not in memory")
                let later = try #require(try await fixture.afterRead(request), "\(kind): not answered after a read")
                #expect(later == normal, "\(kind)")
            }
            #expect(try await fixture.afterRead(Self.presigned(.get, "/imm-bucket/k"))?.body == content)
            // HEAD needs no read.
            #expect(fixture.immediate(Self.presigned(.head, "/imm-bucket/k"))?.status == .ok)
        }
    }

    @Test("A read that fails after the answer was promised fails the answer, and the normal path reports it")
    func failedRead() async throws {
        let fixture = try Fixture(memoryCacheBytes: 0, journalBytes: 0)
        _ = try await fixture.respond(Self.presigned(.put, "/imm-bucket"))
        _ = try await fixture.respond(Self.presigned(.put, "/imm-bucket/k"), body: ByteBuffer(string: "gone soon"))
        let plain = Self.presigned(.get, "/imm-bucket/k")
        #expect(try await fixture.respond(plain).status == .ok)
        let blobs = try FileManager.default.subpathsOfDirectory(atPath: fixture.directory.path + "/blobs/sha256")
            .filter { $0.split(separator: "/").count == 3 }
        #expect(blobs.count == 1)
        for blob in blobs {
            try FileManager.default.removeItem(atPath: fixture.directory.path + "/blobs/sha256/" + blob)
        }
        guard case .afterRead(let response) = fixture.answer(plain) else {
            Issue.record("expected an answer after a read")
            return
        }
        await #expect(throws: BlobStoreError.self) { try await response.get() }
        #expect(try await fixture.respond(plain).status == .internalServerError)
    }
}

@Suite("Request targets")
struct RequestTargetTests {
    @Test("origin-form targets split at the first '?'; absolute-form targets and fragments go through the URI parser")
    func pathAndQuery() {
        #expect(
            S3Service.pathAndQuery(of: "/bucket/a%20b?X-Amz-Date=1&x=a%3Fb") == (
                "/bucket/a%20b", "X-Amz-Date=1&x=a%3Fb"
            ))
        #expect(S3Service.pathAndQuery(of: "/bucket/key") == ("/bucket/key", nil))
        #expect(S3Service.pathAndQuery(of: "/bucket/key?") == ("/bucket/key", ""))
        #expect(S3Service.pathAndQuery(of: "/b/k?a=1?b=2") == ("/b/k", "a=1?b=2"))
        #expect(S3Service.pathAndQuery(of: "/") == ("/", nil))
        #expect(S3Service.pathAndQuery(of: "http://127.0.0.1:9000/bucket/key?x=1") == ("/bucket/key", "x=1"))
        #expect(S3Service.pathAndQuery(of: "http://127.0.0.1:9000/bucket/key") == ("/bucket/key", nil))
        #expect(S3Service.pathAndQuery(of: "/bucket/key?x=1#part").path == "/bucket/key")
        #expect(S3Service.pathAndQuery(of: nil).path == "/")
        #expect(S3Service.pathAndQuery(of: "").path == "/")
    }
}
