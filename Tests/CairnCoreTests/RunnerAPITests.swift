import CairnCore
import Foundation
import NIOCore
import Testing

/// The runner API's bodies: the bytes on the wire are pinned, so that a runner and a server of different versions
/// still understand each other, and the hand-written encoders agree with `JSONEncoder` and `JSONDecoder`.
@Suite("The runner API's JSON bodies")
struct RunnerAPITests {
    static let first = BlobDigest.empty
    static let second = BlobDigest(hex: String(repeating: "ab", count: 32))!

    /// Strings that need every kind of escape.
    static let awkward = [
        "", "plain", "a/b", "quote \" and backslash \\", "\u{8}\u{C}\n\r\t", "\u{0}\u{1}\u{1F}\u{7F}", "é 日本 😀",
        "\u{2028}",
    ]

    static func sortedEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }

    static func text(_ buffer: ByteBuffer) -> String { String(buffer: buffer) }
    static func data(_ buffer: ByteBuffer) -> Data { Data(buffer.readableBytesView) }

    @Test("a list of digests asked about is pinned and written as JSONEncoder writes it")
    func blobListRequest() throws {
        let request = BlobListRequest(digests: [Self.first, Self.second])
        let pinned = #"{"digests":["\#(Self.first.hex)","\#(Self.second.hex)"]}"#
        #expect(Self.text(request.json()) == pinned)
        #expect(String(decoding: try JSONEncoder().encode(request), as: UTF8.self) == pinned)
        #expect(try JSONDecoder().decode(BlobListRequest.self, from: Data(pinned.utf8)) == request)
        #expect(Self.text(BlobListRequest(digests: [String]()).json()) == #"{"digests":[]}"#)

        let awkward = BlobListRequest(digests: Self.awkward)
        #expect(Self.text(awkward.json()) == String(decoding: try JSONEncoder().encode(awkward), as: UTF8.self))
        #expect(try JSONDecoder().decode(BlobListRequest.self, from: Self.data(awkward.json())) == awkward)
    }

    @Test("the missing blobs are pinned and written as JSONEncoder and JSONSerialization write them")
    func missingBlobsResponse() throws {
        let response = MissingBlobsResponse(missing: [Self.second, Self.first])
        let pinned = #"{"missing":["\#(Self.second.hex)","\#(Self.first.hex)"]}"#
        #expect(Self.text(response.json()) == pinned)
        #expect(String(decoding: try Self.sortedEncoder().encode(response), as: UTF8.self) == pinned)
        // What the server wrote before this type existed.
        let serialized = try JSONSerialization.data(
            withJSONObject: ["missing": response.missing], options: [.sortedKeys])
        #expect(String(decoding: serialized, as: UTF8.self) == pinned)
        #expect(try JSONDecoder().decode(MissingBlobsResponse.self, from: Data(pinned.utf8)) == response)

        let awkward = MissingBlobsResponse(missing: Self.awkward)
        #expect(Self.text(awkward.json()) == String(decoding: try JSONEncoder().encode(awkward), as: UTF8.self))
        #expect(try JSONDecoder().decode(MissingBlobsResponse.self, from: Self.data(awkward.json())) == awkward)
    }

    static let entry = ActionEntry(
        namespace: "runner/app", key: "0f0f", value: BlobSegment(digest: second, size: 12),
        references: [first, second],
        attributes: ["phase": "build", "path": "a/b \"c\""], createdAt: Date(timeIntervalSince1970: 1_733_450_092.5)
    )

    @Test("an entry as the server sends it is pinned, with its keys sorted, and reads as JSONDecoder reads it")
    func entryFromTheServer() throws {
        let body = ActionEntryBody(Self.entry, includingCreationTime: true)
        let json = try body.json()
        let pinned =
            #"{"attributes":{"path":"a\/b \"c\"","phase":"build"},"createdAt":1733450092.5,"#
            + #""references":["\#(Self.first.hex)","\#(Self.second.hex)"],"#
            + #""value":{"digest":"\#(Self.second.hex)","size":12}}"#
        #expect(Self.text(json) == pinned)
        #expect(String(decoding: try Self.sortedEncoder().encode(body), as: UTF8.self) == pinned)
        #expect(try JSONDecoder().decode(ActionEntryBody.self, from: Self.data(json)) == body)

        // A whole second prints as Swift prints a Double, which JSONEncoder would shorten: both read back the same.
        var whole = body
        whole.createdAt = 1_733_450_092
        whole.attributes = ["awkward": Self.awkward.joined()]
        whole.references = Self.awkward
        #expect(Self.text(try whole.json()).contains(#""createdAt":1733450092.0,"#))
        #expect(try JSONDecoder().decode(ActionEntryBody.self, from: Self.data(try whole.json())) == whole)

        // Fields left out are left out, as JSONEncoder leaves them out.
        let bare = ActionEntryBody(value: .init(digest: Self.first.hex, size: 0), references: [])
        #expect(Self.text(try bare.json()) == String(decoding: try Self.sortedEncoder().encode(bare), as: UTF8.self))
    }

    @Test("an entry as the runner sends it is pinned, and a server reads one without references or attributes")
    func entryFromTheRunner() throws {
        let body = ActionEntryBody(Self.entry, includingCreationTime: false)
        #expect(body.createdAt == nil)
        let pinned =
            #"{"attributes":{"path":"a\/b \"c\"","phase":"build"},"#
            + #""references":["\#(Self.first.hex)","\#(Self.second.hex)"],"#
            + #""value":{"digest":"\#(Self.second.hex)","size":12}}"#
        #expect(String(decoding: try Self.sortedEncoder().encode(body), as: UTF8.self) == pinned)
        #expect(try JSONDecoder().decode(ActionEntryBody.self, from: try JSONEncoder().encode(body)) == body)

        let minimal = #"{"value":{"digest":"\#(Self.first.hex)","size":0}}"#
        let decoded = try JSONDecoder().decode(ActionEntryBody.self, from: Data(minimal.utf8))
        #expect(decoded == ActionEntryBody(value: .init(digest: Self.first.hex, size: 0), references: []))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ActionEntryBody.self, from: Data(#"{"value":{"digest":"x"}}"#.utf8))
        }
    }

    @Test("the paths and artifact tags are pinned")
    func names() {
        #expect(RunnerAPIPath.missing == "/_cairn/cas/missing")
        #expect(RunnerAPIPath.read == "/_cairn/cas/read")
        #expect(RunnerAPIPath.blob(Self.first) == "/_cairn/cas/\(Self.first.hex)")
        #expect(RunnerAPIPath.entries == "/_cairn/ac")
        #expect(ArtifactTag.project == "cairn-project")
        #expect(ArtifactTag.build == "cairn-build")
    }
}
