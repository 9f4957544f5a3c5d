import CairnCore
import Foundation
import HTTPTypes
import Hummingbird

/// Gradle's HTTP build cache: `url = "http://HOST:PORT/_cairn/gradle/<namespace>/"`; GET/PUT `<root><key>`.
///
/// A miss is 404 and an entry over the size limit is 413: Gradle switches the remote cache off for the rest of
/// the build on any other error status, so storage failures here are never reported as 5xx.
struct GradleCache: Sendable {
    let storage: CacheStorage
    let authenticator: CacheAuthenticator

    static let contentType = "application/vnd.gradle.build-cache-artifact.v1"

    func register(on router: Router<BasicRequestContext>) {
        let path = RouterPath("/_cairn/gradle/:namespace/:key")
        router.get(path) { request, context in try await get(request, context, head: false) }
        router.head(path) { request, context in try await get(request, context, head: true) }
        router.put(path) { request, context in try await put(request, context) }
    }

    private func get(_ request: Request, _ context: BasicRequestContext, head: Bool) async throws -> Response {
        let principal = try await authenticator.cachePrincipal(for: request)
        let namespace = context.parameters.get("namespace") ?? ""
        let key = context.parameters.get("key") ?? ""
        try principal.authorize(namespace: namespace, write: false)
        guard let entry = try await storage.liveEntry(namespace: "gradle/\(namespace)", key: key) else {
            throw CacheError.notFound("gradle entry \(key)")
        }
        return storage.blobResponse(entry.value, head: head, contentType: Self.contentType)
    }

    private func put(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try await authenticator.cachePrincipal(for: request)
        let namespace = context.parameters.get("namespace") ?? ""
        let key = context.parameters.get("key") ?? ""
        try principal.authorize(namespace: namespace, write: true)
        do {
            let value = try await storage.receiveBlob(request)
            try await storage.metadata.putEntry(ActionEntry(namespace: "gradle/\(namespace)", key: key, value: value))
        } catch let error as CacheError where error.status == .contentTooLarge {
            throw error
        } catch {
            // Not stored, said the one way that does not switch Gradle's remote cache off for the whole build.
            throw CacheError(.contentTooLarge, "NotStored", "the entry was not stored: \(error)")
        }
        return .empty(.ok)
    }
}
