import AsyncHTTPClient
import CairnCore
import CairnSigV4
import Foundation
import NIOCore
import NIOHTTP1
import _NIOFileSystem

#if canImport(Glibc)
    import Glibc
#endif

/// A Cairn server's runner API (`/_cairn/cas`, `/_cairn/ac`) and S3 API, over HTTP.
///
/// The CAS and AC calls authenticate with HTTP Basic (access key ID and secret); S3 calls are SigV4-signed with
/// `UNSIGNED-PAYLOAD`. Bodies stream from and to files.
public struct RemotePhaseStore: PhaseStore {
    public let endpoint: String
    let credentials: StoreCredentials
    let region: String
    let client: HTTPClient
    private let createdBuckets = BucketSet()
    /// Signs the S3 calls; one for the store, so that its signing-key cache serves every artifact upload.
    private let signer: SigV4Signer
    /// `host[:port]` of the endpoint, as the S3 calls sign it.
    private let host: String

    public init(endpoint: String, credentials: StoreCredentials, region: String = "us-east-1") {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.credentials = credentials
        self.region = region
        self.client = Self.client
        self.signer = SigV4Signer(
            accessKeyID: credentials.accessKeyID, secretAccessKey: credentials.secretAccessKey, region: region)
        let url = URL(string: self.endpoint)
        self.host = (url?.host ?? "") + (url?.port.map { ":\($0)" } ?? "")
    }

    public var description: String { endpoint }

    private static let timeout = TimeAmount.minutes(10)

    private func request(_ method: HTTPMethod, _ path: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = method
        let token = Data("\(credentials.accessKeyID):\(credentials.secretAccessKey)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(token)")
        return request
    }

    private func failure(_ what: String, _ response: HTTPClientResponse) async -> RunnerError {
        let body = (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
        // Every request carries credentials, so a 401 (runner API) or a refused signature (S3) means they are wrong.
        let refusedSignature = ["InvalidAccessKeyId", "SignatureDoesNotMatch"].contains { body.contains($0) }
        if response.status.code == 401 || (response.status.code == 403 && refusedSignature) {
            return RunnerError(
                "wrong credentials for \(endpoint): the server does not accept access key '\(credentials.accessKeyID)' "
                    + "with this secret (\(what): HTTP \(response.status.code) \(body)); check AWS_ACCESS_KEY_ID and "
                    + "AWS_SECRET_ACCESS_KEY or ~/.aws/credentials",
                kind: .wrongCredentials
            )
        }
        let hint = response.status.code == 403 ? " (the server does not allow this with these credentials)" : ""
        return RunnerError("\(what) at \(endpoint): HTTP \(response.status.code)\(hint) \(body)")
    }

    private func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        do {
            return try await client.execute(request, timeout: Self.timeout)
        } catch {
            throw RunnerError("cannot reach the store at \(endpoint): \(error)", kind: .storeUnreachable)
        }
    }

    /// Asks for no blob at all: one authenticated round trip.
    public func checkAccess() async throws {
        var request = self.request(.POST, RunnerAPIPath.missing)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(BlobListRequest(digests: [String]()).json())
        let response = try await execute(request)
        guard response.status == .ok else { throw await failure("checking access", response) }
        _ = try await response.body.collect(upTo: 1 << 20)
    }

    /// Posts the report to the server's runner API.
    public func reportBuild(_ report: BuildOutcomeReport) async throws {
        var request = self.request(.POST, RunnerAPIPath.builds)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(report)))
        let response = try await execute(request)
        guard (200..<300).contains(response.status.code) else { throw await failure("reporting the build", response) }
        _ = try await response.body.collect(upTo: 1 << 20)
    }

    /// Asks in batches of 10,000 digests, so a request body stays well under a server's body limit (~670 KB).
    public func missing(_ digests: [BlobDigest]) async throws -> Set<BlobDigest> {
        var missing = Set<BlobDigest>()
        for start in stride(from: 0, to: digests.count, by: 10_000) {
            let batch = digests[start..<min(start + 10_000, digests.count)]
            var request = self.request(.POST, RunnerAPIPath.missing)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(BlobListRequest(digests: batch).json())
            let response = try await execute(request)
            guard response.status == .ok else { throw await failure("asking which blobs are missing", response) }
            let data = try await response.body.collect(upTo: 64 << 20)
            let answer = try JSONDecoder().decode(MissingBlobsResponse.self, from: Data(data.readableBytesView))
            missing.formUnion(answer.missing.compactMap(BlobDigest.init(hex:)))
        }
        return missing
    }

    public func upload(file path: String, digest: BlobDigest) async throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw RunnerError("cannot read \(path)") }
        let size = Int64(info.st_size)
        let response: HTTPClientResponse = try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) {
            handle in
            var request = self.request(.PUT, RunnerAPIPath.blob(digest))
            request.body = .stream(Self.counted(handle.readChunks(chunkLength: .mebibytes(1))), length: .known(size))
            return try await execute(request)
        }
        guard response.status == .ok || response.status == .created || response.status == .noContent else {
            throw await failure("storing \(path)", response)
        }
        _ = try await response.body.collect(upTo: 1 << 20)
    }

    /// A file's chunks, each counted in the current transfer (``TransferProgress/current``) as it is read to be sent.
    private static func counted(_ chunks: FileChunks) -> AsyncMapSequence<FileChunks, ByteBuffer> {
        let progress = TransferProgress.current
        return chunks.map { @Sendable chunk in
            progress?.transferred(bytes: chunk.readableBytes)
            return chunk
        }
    }

    public func upload(bytes: [UInt8]) async throws -> BlobSegment {
        let digest = BlobDigest(bytes: MessageDigest.hash(.sha256, bytes))
        var request = self.request(.PUT, RunnerAPIPath.blob(digest))
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await execute(request)
        guard response.status == .ok || response.status == .created || response.status == .noContent else {
            throw await failure("storing blob \(digest)", response)
        }
        _ = try await response.body.collect(upTo: 1 << 20)
        return BlobSegment(digest: digest, size: Int64(bytes.count))
    }

    public func download(_ digest: BlobDigest, to path: String) async throws {
        let response = try await execute(request(.GET, RunnerAPIPath.blob(digest)))
        guard response.status == .ok else { throw await failure("reading blob \(digest)", response) }
        let descriptor = try createForWriting(path)
        defer { close(descriptor) }
        let progress = TransferProgress.current
        for try await chunk in response.body {
            try chunk.withUnsafeReadableBytes { try writeFully(descriptor, $0, path: path) }
            progress?.transferred(bytes: chunk.readableBytes)
        }
    }

    /// Downloads with `POST /_cairn/cas/read`: batches of at most 2,000 files, two at a time (so both ends use two
    /// cores), each batch one stream of framed blobs written straight to the files. The batches come in an even
    /// number, so that both streams end together: three batches of 5,000 files took two rounds of 1,667.
    public func download(_ files: [(digest: BlobDigest, path: String)]) async throws {
        guard !files.isEmpty else { return }
        let batchCount = files.count < 64 ? 1 : ((files.count + 1_999) / 2_000 + 1) / 2 * 2
        let perBatch = (files.count + batchCount - 1) / batchCount
        let batches = stride(from: 0, to: files.count, by: perBatch).map {
            Array(files[$0..<min($0 + perBatch, files.count)])
        }
        try await forEachConcurrently(batches, limit: 2) { batch in try await downloadBatch(batch) }
    }

    private func downloadBatch(_ files: [(digest: BlobDigest, path: String)]) async throws {
        var request = self.request(.POST, RunnerAPIPath.read)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(BlobListRequest(digests: files.map(\.digest)).json())
        let response = try await execute(request)
        guard response.status == .ok else {
            throw await failure("reading \(files.count) blobs", response)
        }
        var reader = BlobFrameReader(files: files, progress: TransferProgress.current)
        defer { reader.abandon() }
        for try await chunk in response.body {
            try reader.consume(chunk)
        }
        try reader.finish()
    }

    public func read(_ digest: BlobDigest) async throws -> [UInt8] {
        let response = try await execute(request(.GET, RunnerAPIPath.blob(digest)))
        guard response.status == .ok else { throw await failure("reading blob \(digest)", response) }
        return Array(buffer: try await response.body.collect(upTo: 256 << 20))
    }

    private func entryPath(_ namespace: String, _ key: String) -> String {
        let (namespace, key) = (SigV4.uriEncode(namespace, keepSlash: false), SigV4.uriEncode(key, keepSlash: false))
        return "\(RunnerAPIPath.entries)/\(namespace)/\(key)"
    }

    public func putEntry(_ entry: ActionEntry) async throws {
        var request = self.request(.PUT, entryPath(entry.namespace, entry.key))
        request.headers.add(name: "Content-Type", value: "application/json")
        let body = ActionEntryBody(entry, includingCreationTime: false)
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        let response = try await execute(request)
        guard (200..<300).contains(response.status.code) else {
            throw await failure("storing entry \(entry.namespace)/\(entry.key)", response)
        }
        _ = try await response.body.collect(upTo: 1 << 20)
    }

    public func entry(namespace: String, key: String) async throws -> ActionEntry? {
        let response = try await execute(request(.GET, entryPath(namespace, key)))
        if response.status == .notFound { return nil }
        guard response.status == .ok else { throw await failure("reading entry \(namespace)/\(key)", response) }
        let data = try await response.body.collect(upTo: 16 << 20)
        let body = try JSONDecoder().decode(ActionEntryBody.self, from: Data(data.readableBytesView))
        guard let digest = BlobDigest(hex: body.value.digest) else { return nil }
        return ActionEntry(
            namespace: namespace, key: key, value: BlobSegment(digest: digest, size: body.value.size),
            references: body.references.compactMap(BlobDigest.init(hex:)), attributes: body.attributes ?? [:],
            createdAt: Date(timeIntervalSince1970: body.createdAt ?? 0)
        )
    }

    public func putObject(bucket: String, key: String, file: String, metadata: [String: String]) async throws -> String
    {
        try await createBucketIfMissing(bucket)
        var info = stat()
        guard stat(file, &info) == 0 else { throw RunnerError("cannot read \(file)") }
        let size = Int64(info.st_size)
        let response: HTTPClientResponse = try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(file)) {
            handle in
            var request = signedS3Request(.PUT, bucket: bucket, key: key)
            request.headers.add(name: "Content-Type", value: ContentType.guess(key))
            for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
                request.headers.add(name: "x-amz-meta-\(name)", value: value)
            }
            request.body = .stream(Self.counted(handle.readChunks(chunkLength: .mebibytes(1))), length: .known(size))
            return try await execute(request)
        }
        guard response.status == .ok else { throw await failure("uploading s3://\(bucket)/\(key)", response) }
        _ = try await response.body.collect(upTo: 1 << 20)
        return "s3://\(bucket)/\(key)"
    }

    public func createObject(bucket: String, key: String, bytes: [UInt8]) async throws -> Bool {
        try await createBucketIfMissing(bucket)
        var request = signedS3Request(.PUT, bucket: bucket, key: key)
        request.headers.add(name: "If-None-Match", value: "*")
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await execute(request)
        _ = try await response.body.collect(upTo: 1 << 20)
        switch response.status {
        case .ok: return true
        case .preconditionFailed, .conflict: return false
        default: throw await failure("creating s3://\(bucket)/\(key)", response)
        }
    }

    private func createBucketIfMissing(_ bucket: String) async throws {
        guard !createdBuckets.contains(bucket) else { return }
        let create = try await execute(signedS3Request(.PUT, bucket: bucket, key: nil))
        // 409 means the bucket exists already (ours or not; the PUT that follows says which).
        guard create.status == .ok || create.status == .conflict else {
            throw await failure("creating bucket \(bucket)", create)
        }
        _ = try await create.body.collect(upTo: 1 << 20)
        createdBuckets.insert(bucket)
    }

    /// A path-style S3 request signed with SigV4 (header form, `UNSIGNED-PAYLOAD`).
    func signedS3Request(_ method: HTTPMethod, bucket: String, key: String?) -> HTTPClientRequest {
        let path = "/" + bucket + (key.map { "/" + $0 } ?? "")
        var request = HTTPClientRequest(url: endpoint + SigV4.uriEncode(path, keepSlash: true))
        request.method = method
        for (name, value) in signer.headers(method: method.rawValue, host: host, path: path) {
            request.headers.add(name: name, value: value)
        }
        return request
    }
}

/// Buckets this store has made sure exist, so a build's many artifact files cost one CreateBucket.
private final class BucketSet: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var names = Set<String>()

    func contains(_ name: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return names.contains(name)
    }

    func insert(_ name: String) {
        lock.lock()
        names.insert(name)
        lock.unlock()
    }
}
