import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Cairn's own cache API, used by `cairn build`: a global CAS with a find-missing call, and action entries. The
/// bodies are the shared types in CairnCore's `RunnerAPI` folder, which the runner compiles against too.
///
/// - `POST /_cairn/cas/missing` ``BlobListRequest`` → ``MissingBlobsResponse``
/// - `POST /_cairn/cas/read` ``BlobListRequest`` → every blob in order, each a ``BlobFrame`` (404 `MissingBlobs`
///   naming them when any is not stored); one request restores thousands of files.
/// - `PUT|GET|HEAD /_cairn/cas/<sha256>`
/// - `PUT|GET|DELETE /_cairn/ac/<namespace>/<key>` with an ``ActionEntryBody``; GET is a miss (404) when any blob
///   the entry names is gone.
struct CacheAPI: Sendable {
    let storage: CacheStorage
    let authenticator: CacheAuthenticator

    func register(on router: Router<BasicRequestContext>) {
        let blob = RouterPath("\(RunnerAPIPath.blobs)/:digest")
        let entry = RouterPath("\(RunnerAPIPath.entries)/:namespace/:key")
        router.post(RouterPath(RunnerAPIPath.missing)) { request, _ in try await missing(request) }
        router.post(RouterPath(RunnerAPIPath.read)) { request, _ in try await readMany(request) }
        router.put(blob) { request, context in try await putBlob(request, context) }
        router.get(blob) { request, context in try await getBlob(request, context, head: false) }
        router.head(blob) { request, context in try await getBlob(request, context, head: true) }
        router.put(entry) { request, context in try await putEntry(request, context) }
        router.get(entry) { request, context in try await getEntry(request, context) }
        router.delete(entry) { request, context in try await deleteEntry(request, context) }
    }

    private func digest(_ context: BasicRequestContext) throws -> BlobDigest {
        let text = context.parameters.get("digest") ?? ""
        guard let digest = BlobDigest(hex: text) else {
            throw CacheError.badRequest("InvalidDigest", "\"\(text)\" is not a SHA-256 hex digest")
        }
        return digest
    }

    private func names(_ context: BasicRequestContext) throws -> (namespace: String, key: String) {
        guard let namespace = context.parameters.get("namespace").flatMap({ $0.removingPercentEncoding }),
            let key = context.parameters.get("key").flatMap({ $0.removingPercentEncoding }), !namespace.isEmpty,
            !key.isEmpty
        else { throw CacheError.badRequest("InvalidName", "the namespace and key must be non-empty path segments") }
        return (namespace, key)
    }

    /// The digests of a ``BlobListRequest`` body.
    private func digestList(_ request: Request) async throws -> [BlobDigest] {
        let body = try await storage.smallBody(request)
        guard let list = try? JSONDecoder().decode(BlobListRequest.self, from: body) else {
            throw CacheError.badRequest("MalformedJSON", "expected {\"digests\": [\"<sha256>\", ...]}")
        }
        var parsed: [BlobDigest] = []
        parsed.reserveCapacity(list.digests.count)
        for text in list.digests {
            guard let digest = BlobDigest(hex: text) else {
                throw CacheError.badRequest("InvalidDigest", "\"\(text)\" is not a SHA-256 hex digest")
            }
            parsed.append(digest)
        }
        return parsed
    }

    private func missing(_ request: Request) async throws -> Response {
        _ = try await authenticator.cachePrincipal(for: request)
        let parsed = try await digestList(request)
        let sizes = try await storage.blobs.storedSizes(parsed)
        let missing = zip(parsed, sizes).filter { $0.1 == nil }.map(\.0)
        return Self.jsonResponse(MissingBlobsResponse(missing: missing).json())
    }

    /// At most this many digests per batch read, so one request's size lookup stays short.
    static let maximumBatchRead = 10_000

    private func readMany(_ request: Request) async throws -> Response {
        _ = try await authenticator.cachePrincipal(for: request)
        let parsed = try await digestList(request)
        guard parsed.count <= Self.maximumBatchRead else {
            throw CacheError.badRequest(
                "TooManyDigests", "ask for at most \(Self.maximumBatchRead) blobs per request, not \(parsed.count)")
        }
        let sizes = try await storage.blobs.readableSizes(parsed)
        let missing = zip(parsed, sizes).filter { $0.1 == nil }.map(\.0.hex)
        if !missing.isEmpty {
            var error = CacheError(.notFound, "MissingBlobs", "\(missing.count) of the blobs asked for are not stored")
            error.extra["missing"] = missing
            throw error
        }
        let segments = zip(parsed, sizes).map { BlobSegment(digest: $0, size: $1!) }
        return storage.batchResponse(segments)
    }

    private func putBlob(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try await authenticator.cachePrincipal(for: request)
        if principal.readOnly {
            throw CacheError.forbidden("this token is read-only: it can read hits but never write")
        }
        let expected = try digest(context)
        _ = try await storage.receiveBlob(request, expected: expected)
        return .empty(.ok)
    }

    private func getBlob(_ request: Request, _ context: BasicRequestContext, head: Bool) async throws -> Response {
        _ = try await authenticator.cachePrincipal(for: request)
        let digest = try digest(context)
        guard let size = try await storage.blobs.storedSizes([digest])[0] else {
            throw CacheError.notFound("blob \(digest)")
        }
        return storage.blobResponse(BlobSegment(digest: digest, size: size), head: head)
    }

    private func putEntry(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try await authenticator.cachePrincipal(for: request)
        let (namespace, key) = try names(context)
        try principal.authorize(namespace: namespace, write: true)
        let body = try await storage.smallBody(request)
        guard let entryBody = try? JSONDecoder().decode(ActionEntryBody.self, from: body),
            let valueDigest = BlobDigest(hex: entryBody.value.digest)
        else {
            throw CacheError.badRequest(
                "MalformedJSON", "expected {\"value\": {\"digest\": \"<sha256>\", \"size\": N}, \"references\": [...]}"
            )
        }
        let valueSize = entryBody.value.size
        var references: [BlobDigest] = []
        for text in entryBody.references {
            guard let digest = BlobDigest(hex: text) else {
                throw CacheError.badRequest("InvalidDigest", "\"\(text)\" is not a SHA-256 hex digest")
            }
            references.append(digest)
        }
        let attributes = entryBody.attributes ?? [:]
        let named = [valueDigest] + references
        let sizes = try await storage.blobs.storedSizes(named)
        let missing = zip(named, sizes).filter { $0.1 == nil }.map(\.0.hex)
        if !missing.isEmpty {
            var error = CacheError.badRequest(
                "MissingBlobs", "\(missing.count) blob(s) named by the entry are not stored; upload them first")
            error.extra["missing"] = missing
            throw error
        }
        let total = valueSize + sizes.dropFirst().reduce(0) { $0 + ($1 ?? 0) }
        try await storage.metadata.putEntry(
            ActionEntry(
                namespace: namespace, key: key, value: BlobSegment(digest: valueDigest, size: valueSize),
                references: references, attributes: attributes, totalSize: total
            )
        )
        return .empty(.ok)
    }

    private func getEntry(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try await authenticator.cachePrincipal(for: request)
        let (namespace, key) = try names(context)
        try principal.authorize(namespace: namespace, write: false)
        guard let entry = try await storage.liveEntry(namespace: namespace, key: key) else {
            throw CacheError.notFound("entry \(namespace)/\(key)")
        }
        return Self.jsonResponse(try ActionEntryBody(entry, includingCreationTime: true).json())
    }

    /// A 200 answer of JSON text written by one of the runner API's encoders.
    private static func jsonResponse(_ json: ByteBuffer) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(json.readableBytes)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: json))
    }

    private func deleteEntry(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try await authenticator.cachePrincipal(for: request)
        let (namespace, key) = try names(context)
        try principal.authorize(namespace: namespace, write: true)
        try await storage.metadata.deleteEntry(namespace: namespace, key: key)
        return .empty(.noContent)
    }
}
