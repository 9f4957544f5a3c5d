import CairnCore
import CairnSigV4
import NIOCore

/// Decodes an `aws-chunked` request body as it streams, verifying chunk signatures and collecting trailers.
///
/// The format: chunks of `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`, a last chunk of size zero, then for
/// the `-TRAILER` variants header lines (`x-amz-checksum-crc32:<base64>`, `x-amz-trailer-signature:<sig>`) and an
/// empty line. Feed the body's buffers in order to ``feed(_:)``, which returns the decoded data, then call
/// ``finish()``: it throws when the body ended early or a signature did not match.
public struct AWSChunkedDecoder {
    private enum State {
        case header
        case data(remaining: Int)
        case dataEnd
        case finalLine
        case trailer
        case done
    }

    private let signing: ChunkSigningContext?
    private let expectsTrailer: Bool
    private var state = State.header
    private var line: [UInt8] = []
    private var previousSignature: String
    private var chunkSignature: String?
    private var chunkHash: MessageDigest?
    /// Trailer headers by lowercase name, available after ``finish()``.
    public private(set) var trailers: [String: String] = [:]
    /// The number of decoded bytes so far.
    public private(set) var decodedLength: Int64 = 0

    private static let maximumLine = 4096
    private static let emptyHash = SigV4.emptySHA256

    public init(signing: ChunkSigningContext?, trailer: Bool) {
        self.signing = signing
        self.expectsTrailer = trailer
        self.previousSignature = signing?.seedSignature ?? ""
    }

    /// Decodes one buffer of the body; returns the data bytes it held (possibly none).
    public mutating func feed(_ input: ByteBuffer) throws -> [ByteBuffer] {
        var input = input
        var output: [ByteBuffer] = []
        while input.readableBytes > 0 {
            switch state {
            case .header:
                guard let text = try readLine(&input) else { continue }
                try startChunk(text)
            case .data(let remaining):
                let take = min(remaining, input.readableBytes)
                let slice = input.readSlice(length: take)!
                if let chunkHash { slice.withUnsafeReadableBytes { chunkHash.update($0) } }
                decodedLength += Int64(take)
                output.append(slice)
                if take == remaining {
                    try endChunkData()
                    state = .dataEnd
                } else {
                    state = .data(remaining: remaining - take)
                }
            case .dataEnd:
                guard let text = try readLine(&input) else { continue }
                guard text.isEmpty else { throw Self.malformed("chunk data is not followed by CRLF") }
                state = .header
            case .finalLine:
                guard let text = try readLine(&input) else { continue }
                guard text.isEmpty else { throw Self.malformed("the final chunk is not followed by CRLF") }
                state = .done
            case .trailer:
                guard let text = try readLine(&input) else { continue }
                if text.isEmpty {
                    try verifyTrailer()
                    state = .done
                } else {
                    guard let colon = text.firstIndex(of: ":") else {
                        throw Self.malformed("trailer line without a colon")
                    }
                    let name = text[..<colon].lowercased().trimmingCharacters(in: .whitespaces)
                    trailers[name] = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            case .done:
                // Some clients end the body with an extra CRLF; anything else is garbage.
                let rest = input.readBytes(length: input.readableBytes) ?? []
                guard rest.allSatisfy({ $0 == 13 || $0 == 10 }) else {
                    throw Self.malformed("data after the final chunk")
                }
            }
        }
        return output
    }

    /// Checks that the body was complete.
    public mutating func finish() throws {
        if case .finalLine = state, line.isEmpty { state = .done }
        if case .trailer = state, line.isEmpty, !expectsTrailerSignature {
            // A body may end right after the trailer lines without the final empty line.
            try verifyTrailer()
            state = .done
        }
        guard case .done = state else {
            throw S3Error.incompleteBody("The request body ended before the final aws-chunked chunk")
        }
    }

    private var expectsTrailerSignature: Bool { signing != nil }

    private mutating func readLine(_ input: inout ByteBuffer) throws -> String? {
        while let byte = input.readInteger(as: UInt8.self) {
            if byte == UInt8(ascii: "\n") {
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                defer { line.removeAll(keepingCapacity: true) }
                return String(decoding: line, as: UTF8.self)
            }
            line.append(byte)
            if line.count > Self.maximumLine { throw Self.malformed("a chunk header line is longer than 4096 bytes") }
        }
        return nil
    }

    private mutating func startChunk(_ text: String) throws {
        let parts = text.split(separator: ";", maxSplits: 1)
        guard let sizeText = parts.first, let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16),
            size >= 0
        else { throw Self.malformed("a chunk header does not start with a hex size: \"\(text.prefix(80))\"") }
        chunkSignature = nil
        if parts.count == 2 {
            let extensionText = parts[1].trimmingCharacters(in: .whitespaces)
            if extensionText.hasPrefix("chunk-signature=") {
                chunkSignature = String(extensionText.dropFirst("chunk-signature=".count))
            }
        }
        if signing != nil {
            guard chunkSignature != nil else { throw Self.signatureMismatch("a chunk has no chunk-signature") }
            chunkHash = MessageDigest(.sha256)
        }
        if size == 0 {
            try endChunkData()
            state = expectsTrailer ? .trailer : .finalLine
        } else {
            state = .data(remaining: size)
        }
    }

    private mutating func endChunkData() throws {
        guard let signing, let hash = chunkHash, let claimed = chunkSignature else { return }
        let stringToSign = [
            "AWS4-HMAC-SHA256-PAYLOAD", signing.amzDate, signing.scope, previousSignature, Self.emptyHash,
            hash.finalize().hexString,
        ].joined(separator: "\n")
        let expected = SigV4.signature(of: stringToSign, key: signing.signingKey)
        guard ConstantTime.equal(expected, claimed) else {
            throw Self.signatureMismatch("a chunk signature does not match its data")
        }
        previousSignature = expected
        chunkHash = nil
    }

    private func verifyTrailer() throws {
        guard let signing else { return }
        guard let claimed = trailers["x-amz-trailer-signature"] else {
            throw Self.signatureMismatch("the trailer has no x-amz-trailer-signature")
        }
        let canonical = trailers.filter { $0.key != "x-amz-trailer-signature" }
            .sorted { $0.key < $1.key }
            .map { "\($0.key):\($0.value)\n" }
            .joined()
        let stringToSign = [
            "AWS4-HMAC-SHA256-TRAILER", signing.amzDate, signing.scope, previousSignature,
            MessageDigest.sha256Hex(canonical),
        ].joined(separator: "\n")
        guard ConstantTime.equal(SigV4.signature(of: stringToSign, key: signing.signingKey), claimed) else {
            throw Self.signatureMismatch("the trailer signature does not match")
        }
    }

    private static func malformed(_ detail: String) -> S3Error {
        S3Error.incompleteBody("The aws-chunked body is malformed: \(detail)")
    }

    private static func signatureMismatch(_ detail: String) -> S3Error {
        S3Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided: \(detail).",
            status: .forbidden
        )
    }
}
