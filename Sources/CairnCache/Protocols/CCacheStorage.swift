import CairnCore
import Foundation
import Hummingbird

/// ccache's HTTP remote storage: `remote_storage = http://HOST:PORT/_cairn/ccache/<namespace>` with any of its
/// layouts (`subdirs` `ab/cdef…`, `flat` `abcdef…`, `bazel` `ac/<64 hex>`): GET, HEAD, PUT, DELETE on the path
/// below the namespace. Any 2xx is a hit for ccache; 404 is a miss.
struct CCacheStorage: Sendable {
    let storage: CacheStorage
    let authenticator: CacheAuthenticator

    func register(on router: Router<BasicRequestContext>) {
        let path = RouterPath("/_cairn/ccache/:namespace/**")
        router.get(path) { request, context in try await get(request, context, head: false) }
        router.head(path) { request, context in try await get(request, context, head: true) }
        router.put(path) { request, context in try await put(request, context) }
        router.delete(path) { request, context in try await delete(request, context) }
    }

    private func names(_ context: BasicRequestContext) throws -> (namespace: String, key: String) {
        let namespace = context.parameters.get("namespace") ?? ""
        let key = context.parameters.getCatchAll().joined(separator: "/")
        guard !key.isEmpty, key.count <= 512 else {
            throw CacheError.badRequest("InvalidKey", "a ccache key is 1 to 512 characters")
        }
        return (namespace, key)
    }

    private func get(_ request: Request, _ context: BasicRequestContext, head: Bool) async throws -> Response {
        let principal = try await authenticator.cachePrincipal(for: request)
        let (namespace, key) = try names(context)
        try principal.authorize(namespace: namespace, write: false)
        guard let entry = try await storage.liveEntry(namespace: "ccache/\(namespace)", key: key) else {
            throw CacheError.notFound("ccache entry \(key)")
        }
        return storage.blobResponse(entry.value, head: head)
    }

    private func put(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try await authenticator.cachePrincipal(for: request)
        let (namespace, key) = try names(context)
        try principal.authorize(namespace: namespace, write: true)
        let value = try await storage.receiveBlob(request)
        try await storage.metadata.putEntry(ActionEntry(namespace: "ccache/\(namespace)", key: key, value: value))
        return .empty(.created)
    }

    private func delete(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try await authenticator.cachePrincipal(for: request)
        let (namespace, key) = try names(context)
        try principal.authorize(namespace: namespace, write: true)
        try await storage.metadata.deleteEntry(namespace: "ccache/\(namespace)", key: key)
        return .empty(.noContent)
    }
}
