import CairnCore
import Foundation
import Hummingbird

/// Bazel's HTTP remote cache: `--remote_cache=http://HOST:PORT/_cairn/bazel/<namespace>`.
///
/// `GET|HEAD|PUT …/cas/<sha256>` (uploads verified against the digest) and `…/ac/<sha256>` (a serialized
/// `ActionResult`). 404 is a miss. An AC entry whose CAS blobs are gone is a miss, never a hit that fails later.
struct BazelCache: Sendable {
    let storage: CacheStorage
    let authenticator: CacheAuthenticator

    func register(on router: Router<BasicRequestContext>) {
        for kind in ["ac", "cas"] {
            let path = RouterPath("/_cairn/bazel/:namespace/\(kind)/:hash")
            router.get(path) { request, context in try await get(request, context, kind: kind, head: false) }
            router.head(path) { request, context in try await get(request, context, kind: kind, head: true) }
            router.put(path) { request, context in try await put(request, context, kind: kind) }
        }
    }

    private func parse(_ context: BasicRequestContext) throws -> (namespace: String, digest: BlobDigest) {
        let namespace = context.parameters.get("namespace") ?? ""
        let text = context.parameters.get("hash") ?? ""
        guard let digest = BlobDigest(hex: text) else {
            throw CacheError.badRequest("InvalidDigest", "\"\(text)\" is not a SHA-256 hex digest")
        }
        return (namespace, digest)
    }

    private func get(_ request: Request, _ context: BasicRequestContext, kind: String, head: Bool) async throws
        -> Response
    {
        let principal = try await authenticator.cachePrincipal(for: request)
        let (namespace, digest) = try parse(context)
        try principal.authorize(namespace: namespace, write: false)
        guard let entry = try await storage.liveEntry(namespace: "bazel/\(namespace)/\(kind)", key: digest.hex) else {
            throw CacheError.notFound("\(kind) \(digest)")
        }
        return storage.blobResponse(entry.value, head: head)
    }

    private func put(_ request: Request, _ context: BasicRequestContext, kind: String) async throws -> Response {
        let principal = try await authenticator.cachePrincipal(for: request)
        let (namespace, digest) = try parse(context)
        try principal.authorize(namespace: namespace, write: true)
        let value = try await storage.receiveBlob(request, expected: kind == "cas" ? digest : nil)
        var references: [BlobDigest] = []
        if kind == "ac" {
            var bytes: [UInt8] = []
            try await storage.blobs.readChunks(of: value.digest, range: 0..<min(value.size, 16 << 20)) {
                bytes += $0.readableBytesView
            }
            references = ActionResultReferences.digests(in: bytes)
        }
        let total = try await value.size + storage.blobs.storedSizes(references).reduce(0) { $0 + ($1 ?? 0) }
        try await storage.metadata.putEntry(
            ActionEntry(
                namespace: "bazel/\(namespace)/\(kind)", key: digest.hex, value: value, references: references,
                totalSize: total
            )
        )
        return .empty(.ok)
    }
}
