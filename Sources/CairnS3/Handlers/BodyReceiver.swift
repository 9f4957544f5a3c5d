import CairnCore
import Foundation
import Hummingbird
import NIOCore

/// Streams a request body into a new blob, decoding `aws-chunked` and verifying every digest the client declared.
///
/// Verified: `x-amz-content-sha256` (a hex digest), `aws-chunked` chunk and trailer signatures, `Content-MD5`,
/// one `x-amz-checksum-*` (header or trailer) and `x-amz-decoded-content-length`. On any failure the temp file is
/// discarded and nothing is stored.
struct BodyReceiver {
    /// A finished, verified body, not yet committed as a blob.
    struct Received {
        let writer: any BlobWriter
        let summary: BlobSummary
        let checksum: StoredChecksum?
    }

    /// S3's largest single PUT.
    static let maximumObjectSize: Int64 = 5 * 1024 * 1024 * 1024

    let blobs: any BlobStore

    func receive(_ s3: S3Request) async throws -> Received {
        let declared = try declaredChecksum(s3)
        let length = s3.header("x-amz-decoded-content-length") ?? s3.header("content-length")
        let writer = try blobs.makeWriter(checksum: declared?.algorithm, expectedSize: length.flatMap { Int64($0) })
        do {
            let (summary, trailers) = try await stream(s3, into: writer)
            let checksum = try verify(s3, summary: summary, declared: declared, trailers: trailers)
            return Received(writer: writer, summary: summary, checksum: checksum)
        } catch {
            await writer.discard()
            throw error
        }
    }

    /// Reads a small non-object body (XML of DeleteObjects, CompleteMultipartUpload…), verified the same way.
    func receiveSmall(_ s3: S3Request, limit: Int = 2 * 1024 * 1024) async throws -> Data {
        var decoder = chunkedDecoder(s3)
        var data = Data()
        let sha256 = MessageDigest(.sha256)
        for try await buffer in s3.body {
            let pieces = decoder != nil ? try decoder!.feed(buffer) : [buffer]
            for piece in pieces {
                piece.withUnsafeReadableBytes { sha256.update($0) }
                data.append(contentsOf: piece.readableBytesView)
            }
            if data.count > limit {
                throw S3Error("MaxMessageLengthExceeded", "Your request was too big.", status: .badRequest)
            }
        }
        if var finished = decoder { try finished.finish() }
        if case .sha256(let expected) = s3.authentication.payload, expected != sha256.finalize() {
            throw Self.contentSHA256Mismatch
        }
        if let md5 = s3.header("content-md5") {
            guard Data(base64Encoded: md5).map(Array.init) == MessageDigest.hash(.md5, data) else {
                throw S3Error.badDigest("The Content-MD5 you specified did not match what we received.")
            }
        }
        return data
    }

    private func chunkedDecoder(_ s3: S3Request) -> AWSChunkedDecoder? {
        guard case .streaming(let signing, let trailer) = s3.authentication.payload else { return nil }
        return AWSChunkedDecoder(signing: signing, trailer: trailer)
    }

    private func stream(
        _ s3: S3Request, into writer: any BlobWriter
    ) async throws -> (BlobSummary, trailers: [String: String]) {
        var decoder = chunkedDecoder(s3)
        do {
            for try await buffer in s3.body {
                if decoder != nil {
                    for piece in try decoder!.feed(buffer) { try await writer.write(piece) }
                } else {
                    try await writer.write(buffer)
                }
                if writer.bytesWritten > Self.maximumObjectSize {
                    throw S3Error(
                        "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.",
                        status: .badRequest
                    )
                }
            }
        } catch let error as S3Error {
            throw error
        } catch let error as BlobStoreError {
            throw error
        } catch {
            throw S3Error.incompleteBody("The request body ended before its declared length: \(error)")
        }
        if decoder != nil {
            try decoder!.finish()
            if let declared = s3.header("x-amz-decoded-content-length"), Int64(declared) != decoder!.decodedLength {
                throw S3Error.incompleteBody(
                    "x-amz-decoded-content-length is \(declared) but the aws-chunked body held \(decoder!.decodedLength) bytes"
                )
            }
        }
        return (try await writer.finish(), decoder?.trailers ?? [:])
    }

    private struct Declared {
        let algorithm: ChecksumAlgorithm
        /// Nil when the value comes in the trailer.
        let value: String?
    }

    private func declaredChecksum(_ s3: S3Request) throws -> Declared? {
        var found: [Declared] = []
        for algorithm in ChecksumAlgorithm.allCases {
            if let value = s3.header(algorithm.headerName) {
                found.append(Declared(algorithm: algorithm, value: value))
            }
        }
        if let trailer = s3.header("x-amz-trailer") {
            for name in trailer.split(separator: ",") {
                if let algorithm = ChecksumAlgorithm(headerName: name.trimmingCharacters(in: .whitespaces)) {
                    found.append(Declared(algorithm: algorithm, value: nil))
                }
            }
        }
        if found.count > 1 {
            throw S3Error.invalidRequest(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
        }
        if found.isEmpty, let name = s3.header("x-amz-sdk-checksum-algorithm") {
            guard ChecksumAlgorithm(rawValue: name.uppercased()) != nil else {
                throw S3Error.invalidRequest("Checksum algorithm \(name) is not supported")
            }
        }
        return found.first
    }

    private func verify(
        _ s3: S3Request, summary: BlobSummary, declared: Declared?, trailers: [String: String]
    ) throws -> StoredChecksum? {
        if case .sha256(let expected) = s3.authentication.payload, expected != summary.sha256 {
            throw Self.contentSHA256Mismatch
        }
        if let md5 = s3.header("content-md5") {
            guard let bytes = Data(base64Encoded: md5), bytes.count == 16 else {
                throw S3Error("InvalidDigest", "The Content-MD5 you specified is not valid.", status: .badRequest)
            }
            guard Array(bytes) == summary.md5 else {
                throw S3Error.badDigest("The Content-MD5 you specified did not match what we received.")
            }
        }
        guard let declared, let computed = summary.checksum else { return nil }
        let claimed = declared.value ?? trailers[declared.algorithm.headerName]
        guard let claimed else {
            throw S3Error.invalidRequest(
                "The x-amz-trailer header named \(declared.algorithm.headerName) but the body carried no such trailer")
        }
        guard claimed == computed.value else {
            throw S3Error.badDigest(
                "The \(declared.algorithm.rawValue) you specified did not match the calculated checksum.")
        }
        return StoredChecksum(algorithm: declared.algorithm, value: computed.value)
    }

    static let contentSHA256Mismatch = S3Error(
        "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.",
        status: .badRequest
    )
}
