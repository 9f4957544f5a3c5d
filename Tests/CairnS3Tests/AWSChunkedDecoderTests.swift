import CairnCore
import CairnS3
import CairnSigV4
import Foundation
import NIOCore
import Testing

/// Tests for ``AWSChunkedDecoder`` on the chunked-upload example of the S3 API reference ("Signature Calculations
/// for the Authorization Header: Transferring Payload in Multiple Chunks"): a 66560-byte object of 'a' sent as a
/// 65536-byte chunk, a 1024-byte chunk and the final empty chunk, 66824 bytes on the wire.
@Suite("aws-chunked decoding")
struct AWSChunkedDecoderTests {
    static let seedSignature = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    static let chunkSignatures = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ]
    static let decoded = [UInt8](repeating: UInt8(ascii: "a"), count: 66_560)

    /// The seed request of the example, verified to obtain its chunk-signing context.
    ///
    /// With `trailer`, the request of the trailing-header example ("Signature calculations for trailing headers"),
    /// whose seed signature is 106e2a8a….
    static func signingContext(trailer: Bool = false) throws -> ChunkSigningContext {
        var headers = [
            "content-encoding": "aws-chunked",
            "host": "s3.amazonaws.com",
            "x-amz-date": "20130524T000000Z",
            "x-amz-decoded-content-length": "66560",
            "x-amz-storage-class": "REDUCED_REDUNDANCY",
        ]
        let signedHeaders: String
        let signature: String
        if trailer {
            headers["x-amz-content-sha256"] = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
            headers["x-amz-trailer"] = "x-amz-checksum-crc32c"
            headers["content-length"] = String(trailerExampleBody().count)
            signedHeaders =
                "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
                + "x-amz-storage-class;x-amz-trailer"
            signature = trailerSeedSignature
        } else {
            headers["x-amz-content-sha256"] = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
            headers["content-length"] = "66824"
            signedHeaders =
                "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                + "x-amz-decoded-content-length;x-amz-storage-class"
            signature = seedSignature
        }
        headers["authorization"] =
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            + "SignedHeaders=\(signedHeaders),Signature=\(signature)"
        let request = SignedRequest(method: "PUT", path: "/examplebucket/chunkObject.txt", query: [], headers: headers)
        let verifier = SigV4Verifier(now: { Date(timeIntervalSince1970: 1_369_353_600) }) { id in
            id == "AKIAIOSFODNN7EXAMPLE" ? "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" : nil
        }
        let authentication = try verifier.verify(request)
        guard case .streaming(let signing, let hasTrailer) = authentication.payload, let signing, hasTrailer == trailer
        else {
            throw TestFailure("expected a signed streaming payload, got \(authentication.payload)")
        }
        #expect(signing.seedSignature == signature)
        return signing
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// The example's body, byte for byte; `signatures` replaces the chunk signatures.
    static func exampleBody(signatures: [String] = chunkSignatures) -> [UInt8] {
        var body = [UInt8]()
        for (size, signature) in zip([65_536, 1_024, 0], signatures) {
            body += Array("\(String(size, radix: 16));chunk-signature=\(signature)\r\n".utf8)
            body += [UInt8](repeating: UInt8(ascii: "a"), count: size)
            body += Array("\r\n".utf8)
        }
        return body
    }

    /// Feeds `body` cut at `cuts` (sorted offsets), returns the decoded bytes; calls `finish()` when asked.
    static func decode(
        _ body: [UInt8], cuts: [Int] = [], decoder: inout AWSChunkedDecoder, finish: Bool = true
    ) throws -> [UInt8] {
        var output = [UInt8]()
        var start = 0
        for end in cuts + [body.count] where end > start {
            for var buffer in try decoder.feed(ByteBuffer(bytes: body[start..<end])) {
                output += buffer.readBytes(length: buffer.readableBytes) ?? []
            }
            start = end
        }
        if finish { try decoder.finish() }
        return output
    }

    /// The S3 error `body` throws, or nil when it throws none (other errors are recorded as issues).
    static func s3Error(_ body: () throws -> Void) -> S3Error? {
        do {
            try body()
            Issue.record("expected an S3Error, but nothing was thrown")
            return nil
        } catch let error as S3Error {
            return error
        } catch {
            Issue.record("expected an S3Error, got \(error)")
            return nil
        }
    }

    /// A deterministic generator for the random splits.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// The lengths of the three chunk headers ("10000;chunk-signature=…\r\n", "400;…", "0;…").
    static let firstHeaderLength = 88
    static let secondHeaderStart = 88 + 65_536 + 2
    static let secondDataStart = secondHeaderStart + 86
    static let finalHeaderLength = 84

    /// Offsets that put every byte of each chunk header (and the CRLFs around it) in a buffer of its own.
    static func bytewiseHeaderCuts(_ body: [UInt8]) -> [Int] {
        var cuts = Set<Int>()
        cuts.formUnion(0...(firstHeaderLength + 1))
        cuts.formUnion((secondHeaderStart - 2)...(secondDataStart + 1))
        cuts.formUnion((body.count - 2 - finalHeaderLength - 2 - 2)...body.count)
        return cuts.filter { $0 > 0 && $0 < body.count }.sorted()
    }

    // MARK: The AWS example

    @Test("The example body has the documented length")
    func exampleLength() {
        let body = Self.exampleBody()
        #expect(body.count == 66_824)
        #expect(body[Self.firstHeaderLength - 2..<Self.firstHeaderLength] == [13, 10])
        #expect(String(decoding: body[Self.secondHeaderStart..<Self.secondHeaderStart + 4], as: UTF8.self) == "400;")
        #expect(body[Self.secondDataStart - 2..<Self.secondDataStart] == [13, 10])
        #expect(String(decoding: body.suffix(Self.finalHeaderLength + 2).prefix(2), as: UTF8.self) == "0;")
    }

    @Test("The AWS example decodes when fed whole")
    func wholeBody() throws {
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(), trailer: false)
        let output = try Self.decode(Self.exampleBody(), decoder: &decoder)
        #expect(output == Self.decoded)
        #expect(decoder.decodedLength == 66_560)
        #expect(decoder.trailers.isEmpty)
    }

    @Test("The AWS example decodes when its headers arrive one byte at a time")
    func bytewiseHeaders() throws {
        let body = Self.exampleBody()
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(), trailer: false)
        let output = try Self.decode(body, cuts: Self.bytewiseHeaderCuts(body), decoder: &decoder)
        #expect(output == Self.decoded)
    }

    @Test("The AWS example decodes at awkward cuts: inside CRLFs, on chunk boundaries, in the signature")
    func awkwardCuts() throws {
        let body = Self.exampleBody()
        let firstData = Self.firstHeaderLength
        let cuts: [[Int]] = [
            [firstData - 1],  // between CR and LF of the first header
            [firstData],  // exactly where the data begins
            [firstData + 65_536],  // exactly where the data ends
            [firstData + 65_536 + 1],  // between CR and LF after the data
            [firstData + 65_536 + 2],  // exactly at the second header
            [40],  // inside the first chunk signature
            [5, 6, 7, 8],  // inside ";chunk-signature="
            [body.count - 1],  // before the very last LF
            [body.count - 2],  // before the final CRLF
        ]
        for cut in cuts {
            var decoder = AWSChunkedDecoder(signing: try Self.signingContext(), trailer: false)
            let output = try Self.decode(body, cuts: cut, decoder: &decoder)
            #expect(output == Self.decoded, "cut at \(cut)")
        }
    }

    @Test("The AWS example decodes at random splits", arguments: [1, 2, 3, 42, 2024])
    func randomSplits(_ seed: UInt64) throws {
        let body = Self.exampleBody()
        var generator = SplitMix64(state: seed)
        var cuts = Set<Int>()
        // Many small pieces and a few large ones.
        for _ in 0..<200 { cuts.insert(Int.random(in: 1..<body.count, using: &generator)) }
        for _ in 0..<200 { cuts.insert(Int.random(in: 1..<120, using: &generator)) }
        for _ in 0..<50 { cuts.insert(Int.random(in: (body.count - 120)..<body.count, using: &generator)) }
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(), trailer: false)
        let output = try Self.decode(body, cuts: cuts.sorted(), decoder: &decoder)
        #expect(output == Self.decoded)
        #expect(decoder.decodedLength == 66_560)
    }

    @Test("The whole example decodes one byte at a time")
    func everyByteSeparately() throws {
        let body = Self.exampleBody()
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(), trailer: false)
        let output = try Self.decode(body, cuts: Array(1..<body.count), decoder: &decoder)
        #expect(output == Self.decoded)
    }

    // MARK: Tampering

    @Test(
        "A flipped data byte gives SignatureDoesNotMatch",
        arguments: [88, 30_088, 65_623, 65_712, 66_000, 66_735]
    )
    func flippedDataByte(_ offset: Int) throws {
        var body = Self.exampleBody()
        #expect(body[offset] == UInt8(ascii: "a"))
        body[offset] = UInt8(ascii: "b")
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(), trailer: false)
        let error = Self.s3Error { _ = try Self.decode(body, decoder: &decoder) }
        #expect(error?.code == "SignatureDoesNotMatch")
        #expect(error?.status.code == 403)
    }

    @Test("A wrong chunk signature gives SignatureDoesNotMatch", arguments: [0, 1, 2])
    func wrongChunkSignature(_ index: Int) throws {
        var signatures = Self.chunkSignatures
        let wrong = signatures[index].last == "0" ? "1" : "0"
        signatures[index] = String(signatures[index].dropLast()) + wrong
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(), trailer: false)
        let error = Self.s3Error { _ = try Self.decode(Self.exampleBody(signatures: signatures), decoder: &decoder) }
        #expect(error?.code == "SignatureDoesNotMatch")
    }

    @Test("Chunks whose signatures are swapped give SignatureDoesNotMatch")
    func swappedSignatures() throws {
        let signatures = [Self.chunkSignatures[1], Self.chunkSignatures[0], Self.chunkSignatures[2]]
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(), trailer: false)
        let error = Self.s3Error { _ = try Self.decode(Self.exampleBody(signatures: signatures), decoder: &decoder) }
        #expect(error?.code == "SignatureDoesNotMatch")
    }

    @Test("A chunk without a chunk-signature gives SignatureDoesNotMatch when signatures are expected")
    func missingChunkSignature() throws {
        let body = Array("5\r\nhello\r\n0\r\n\r\n".utf8)
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(), trailer: false)
        let error = Self.s3Error { _ = try Self.decode(body, decoder: &decoder) }
        #expect(error?.code == "SignatureDoesNotMatch")
    }

    @Test(
        "A body that stops early makes finish() throw IncompleteBody",
        arguments: [1, 88, 40_000, 65_624, 65_625, 66_700, 66_823]
    )
    func truncatedBody(_ length: Int) throws {
        let body = Array(Self.exampleBody().prefix(length))
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(), trailer: false)
        let output = try Self.decode(body, decoder: &decoder, finish: false)
        #expect(output.allSatisfy { $0 == UInt8(ascii: "a") })
        let error = Self.s3Error { try decoder.finish() }
        #expect(error?.code == "IncompleteBody")
    }

    @Test("An empty body makes finish() throw IncompleteBody")
    func emptyBody() throws {
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(), trailer: false)
        #expect(Self.s3Error { try decoder.finish() }?.code == "IncompleteBody")
    }

    @Test("A body without its final chunk makes finish() throw IncompleteBody")
    func missingFinalChunk() throws {
        let body = Self.exampleBody()
        let withoutFinal = Array(body.prefix(body.count - Self.finalHeaderLength - 2))
        #expect(withoutFinal.suffix(4) == Array("aa\r\n".utf8))
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(), trailer: false)
        let output = try Self.decode(withoutFinal, decoder: &decoder, finish: false)
        #expect(output == Self.decoded)
        #expect(Self.s3Error { try decoder.finish() }?.code == "IncompleteBody")
    }

    // MARK: Signed bodies with trailers

    static let trailerSeedSignature = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
    static let trailerChunkSignatures = [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ]
    static let trailerSignature = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"

    /// The body of the trailing-header example, with the trailer lines given (each ending in CRLF) and the final
    /// empty line that SDKs send.
    static func trailerExampleBody(
        trailerLines: [String] = ["x-amz-checksum-crc32c:sOO8/Q==", "x-amz-trailer-signature:\(trailerSignature)"]
    ) -> [UInt8] {
        var body = [UInt8]()
        for (size, signature) in zip([65_536, 1_024, 0], trailerChunkSignatures) {
            body += Array("\(String(size, radix: 16));chunk-signature=\(signature)\r\n".utf8)
            if size > 0 {
                body += [UInt8](repeating: UInt8(ascii: "a"), count: size)
                body += Array("\r\n".utf8)
            }
        }
        for line in trailerLines { body += Array("\(line)\r\n".utf8) }
        return body + Array("\r\n".utf8)
    }

    @Test("The AWS trailing-header example decodes and its trailer signature verifies")
    func signedTrailer() throws {
        // The example's checksum is the CRC32C of the 66560 bytes.
        #expect(ChecksumAlgorithm.crc32c.checksum(of: Self.decoded) == "sOO8/Q==")
        let body = Self.trailerExampleBody()
        for cuts in [[], Array(body.count - 150..<body.count), [88, 65_626, body.count - 3]] {
            var decoder = AWSChunkedDecoder(signing: try Self.signingContext(trailer: true), trailer: true)
            let output = try Self.decode(body, cuts: cuts, decoder: &decoder)
            #expect(output == Self.decoded)
            #expect(decoder.trailers["x-amz-checksum-crc32c"] == "sOO8/Q==")
            #expect(decoder.trailers["x-amz-trailer-signature"] == Self.trailerSignature)
        }
    }

    @Test("A changed trailer value gives SignatureDoesNotMatch")
    func tamperedTrailer() throws {
        let body = Self.trailerExampleBody(trailerLines: [
            "x-amz-checksum-crc32c:AAAAAA==", "x-amz-trailer-signature:\(Self.trailerSignature)",
        ])
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(trailer: true), trailer: true)
        #expect(Self.s3Error { _ = try Self.decode(body, decoder: &decoder) }?.code == "SignatureDoesNotMatch")
    }

    @Test("A signed trailer without x-amz-trailer-signature gives SignatureDoesNotMatch")
    func missingTrailerSignature() throws {
        let body = Self.trailerExampleBody(trailerLines: ["x-amz-checksum-crc32c:sOO8/Q=="])
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(trailer: true), trailer: true)
        #expect(Self.s3Error { _ = try Self.decode(body, decoder: &decoder) }?.code == "SignatureDoesNotMatch")
    }

    @Test("A trailer signature of another value gives SignatureDoesNotMatch")
    func wrongTrailerSignature() throws {
        let body = Self.trailerExampleBody(trailerLines: [
            "x-amz-checksum-crc32c:sOO8/Q==", "x-amz-trailer-signature:\(Self.chunkSignatures[0])",
        ])
        var decoder = AWSChunkedDecoder(signing: try Self.signingContext(trailer: true), trailer: true)
        #expect(Self.s3Error { _ = try Self.decode(body, decoder: &decoder) }?.code == "SignatureDoesNotMatch")
    }

    // MARK: Unsigned bodies with trailers

    static let trailerBody = Array("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n".utf8)

    @Test("An unsigned body with a trailer decodes and yields the trailer")
    func unsignedTrailer() throws {
        // zlib.crc32(b"hello") == 0x3610A686, whose big-endian bytes are "NhCmhg==" in base64.
        #expect(ChecksumAlgorithm.crc32.checksum(of: Array("hello".utf8)) == "NhCmhg==")
        var decoder = AWSChunkedDecoder(signing: nil, trailer: true)
        let output = try Self.decode(Self.trailerBody, decoder: &decoder)
        #expect(output == Array("hello".utf8))
        #expect(decoder.trailers == ["x-amz-checksum-crc32": "NhCmhg=="])
        #expect(decoder.decodedLength == 5)
    }

    @Test("An unsigned body with a trailer decodes one byte at a time")
    func unsignedTrailerBytewise() throws {
        var decoder = AWSChunkedDecoder(signing: nil, trailer: true)
        let output = try Self.decode(
            Self.trailerBody, cuts: Array(1..<Self.trailerBody.count), decoder: &decoder
        )
        #expect(output == Array("hello".utf8))
        #expect(decoder.trailers["x-amz-checksum-crc32"] == "NhCmhg==")
    }

    @Test("STREAMING-UNSIGNED-PAYLOAD-TRAILER verifies as an unsigned streaming payload with a trailer")
    func unsignedTrailerExpectation() throws {
        let request = SignedRequest(
            method: "PUT", path: "/examplebucket/chunkObject.txt", query: [],
            headers: [
                "host": "s3.amazonaws.com",
                "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                "x-amz-date": "20130524T000000Z",
                "authorization": "AWS4-HMAC-SHA256 "
                    + "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                    + "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
                    + "Signature=\(Self.unsignedTrailerSignature())",
            ]
        )
        let verifier = SigV4Verifier(now: { Date(timeIntervalSince1970: 1_369_353_600) }) { _ in
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        }
        let authentication = try verifier.verify(request)
        guard case .streaming(let signing, let trailer) = authentication.payload else {
            Issue.record("expected a streaming payload, got \(authentication.payload)")
            return
        }
        #expect(signing == nil)
        #expect(trailer)
    }

    /// The signature of the request in ``unsignedTrailerExpectation()``, computed with the SigV4 primitives.
    static func unsignedTrailerSignature() -> String {
        let payload = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        let canonical = SigV4.canonicalRequest(
            method: "PUT", canonicalURI: "/examplebucket/chunkObject.txt", canonicalQuery: "",
            headers: [
                ("host", "s3.amazonaws.com"), ("x-amz-content-sha256", payload), ("x-amz-date", "20130524T000000Z"),
            ],
            payloadHash: payload
        )
        let stringToSign = SigV4.stringToSign(
            amzDate: "20130524T000000Z", scope: "20130524/us-east-1/s3/aws4_request", canonicalRequest: canonical
        )
        let key = SigV4.signingKey(
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", date: "20130524", region: "us-east-1", service: "s3"
        )
        return SigV4.signature(of: stringToSign, key: key)
    }

    @Test("Several chunks of an unsigned body decode in order")
    func severalUnsignedChunks() throws {
        let body = Array("3\r\nabc\r\na\r\n0123456789\r\n1\r\nZ\r\n0\r\n\r\n".utf8)
        var decoder = AWSChunkedDecoder(signing: nil, trailer: false)
        let output = try Self.decode(body, cuts: [2, 4, 9, 20], decoder: &decoder)
        #expect(String(decoding: output, as: UTF8.self) == "abc0123456789Z")
    }

    @Test(
        "A malformed chunk header throws",
        arguments: [
            "zz\r\nhello\r\n0\r\n\r\n",
            "\r\nhello\r\n0\r\n\r\n",
            "-5\r\nhello\r\n0\r\n\r\n",
            "ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
            "5 x\r\nhello\r\n0\r\n\r\n",
        ]
    )
    func malformedSizeLine(_ text: String) {
        var decoder = AWSChunkedDecoder(signing: nil, trailer: false)
        let error = Self.s3Error { _ = try Self.decode(Array(text.utf8), decoder: &decoder) }
        #expect(error?.code == "IncompleteBody")
    }

    @Test("Chunk data not followed by CRLF throws")
    func dataWithoutCRLF() {
        var decoder = AWSChunkedDecoder(signing: nil, trailer: false)
        let body = Array("5\r\nhelloXY0\r\n\r\n".utf8)
        #expect(Self.s3Error { _ = try Self.decode(body, decoder: &decoder) }?.code == "IncompleteBody")
    }

    @Test("Data after the final chunk throws")
    func garbageAfterFinalChunk() {
        var decoder = AWSChunkedDecoder(signing: nil, trailer: false)
        let body = Array("5\r\nhello\r\n0\r\n\r\nmore".utf8)
        #expect(Self.s3Error { _ = try Self.decode(body, decoder: &decoder) }?.code == "IncompleteBody")
    }

    @Test("A trailer line without a colon throws")
    func trailerWithoutColon() {
        var decoder = AWSChunkedDecoder(signing: nil, trailer: true)
        let body = Array("5\r\nhello\r\n0\r\nx-amz-checksum-crc32 NhCmhg==\r\n\r\n".utf8)
        #expect(Self.s3Error { _ = try Self.decode(body, decoder: &decoder) }?.code == "IncompleteBody")
    }

    @Test("A header line longer than 4096 bytes throws")
    func overlongHeaderLine() {
        var decoder = AWSChunkedDecoder(signing: nil, trailer: false)
        let body = Array(("5;" + String(repeating: "x", count: 5000) + "\r\nhello\r\n0\r\n\r\n").utf8)
        #expect(Self.s3Error { _ = try Self.decode(body, decoder: &decoder) }?.code == "IncompleteBody")
    }
}
