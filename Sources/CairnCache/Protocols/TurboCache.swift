import CairnCore
import Foundation
import HTTPTypes
import Hummingbird

/// Turborepo's remote cache API: `--api=http://HOST:PORT/_cairn/turbo`, which appends `/v8/artifacts/…`.
///
/// The namespace is the `teamId` query parameter (sent when it starts with `team_`), else `slug`, else `default`.
/// `x-artifact-duration` and `x-artifact-tag` are kept with the artifact and returned with it.
struct TurboCache: Sendable {
    let storage: CacheStorage
    let authenticator: CacheAuthenticator

    func register(on router: Router<BasicRequestContext>) {
        router.get("/_cairn/turbo/v8/artifacts/status") { request, _ in
            _ = try await authenticator.cachePrincipal(for: request)
            return try Response.json(["status": "enabled"])
        }
        router.post("/_cairn/turbo/v8/artifacts/events") { request, _ in
            _ = try await authenticator.cachePrincipal(for: request)
            let body = try await storage.smallBody(request, limit: 1 << 20)
            guard (try? JSONSerialization.jsonObject(with: body)) is [Any] else {
                throw CacheError.badRequest("MalformedJSON", "expected a JSON array of cache events")
            }
            return Response.empty(.ok)
        }
        router.get("/_cairn/turbo/v8/artifacts/:hash") { request, context in
            try await get(request, context, head: false)
        }
        router.head("/_cairn/turbo/v8/artifacts/:hash") { request, context in
            try await get(request, context, head: true)
        }
        router.put("/_cairn/turbo/v8/artifacts/:hash") { request, context in try await put(request, context) }
    }

    private func namespace(_ request: Request) -> String {
        let query = request.uri.queryParameters
        if let team = query["teamId"], !team.isEmpty { return String(team) }
        if let slug = query["slug"], !slug.isEmpty { return String(slug) }
        return "default"
    }

    private func hash(_ context: BasicRequestContext) throws -> String {
        let hash = context.parameters.get("hash") ?? ""
        guard !hash.isEmpty, hash.count <= 256,
            hash.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        else {
            throw CacheError.badRequest("InvalidHash", "an artifact hash is 1 to 256 letters, digits, - or _")
        }
        return hash
    }

    private func get(_ request: Request, _ context: BasicRequestContext, head: Bool) async throws -> Response {
        let principal = try await authenticator.cachePrincipal(for: request)
        let namespace = namespace(request)
        try principal.authorize(namespace: namespace, write: false)
        let hash = try hash(context)
        guard let entry = try await storage.liveEntry(namespace: "turbo/\(namespace)", key: hash) else {
            throw CacheError.notFound("artifact \(hash)")
        }
        var headers = HTTPFields()
        if let duration = entry.attributes["duration"] { headers[HTTPField.Name("x-artifact-duration")!] = duration }
        if let tag = entry.attributes["tag"] { headers[HTTPField.Name("x-artifact-tag")!] = tag }
        return storage.blobResponse(entry.value, head: head, headers: headers)
    }

    private func put(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try await authenticator.cachePrincipal(for: request)
        let namespace = namespace(request)
        try principal.authorize(namespace: namespace, write: true)
        let hash = try hash(context)
        var attributes: [String: String] = [:]
        if let duration = request.headers[HTTPField.Name("x-artifact-duration")!] {
            guard Int(duration) != nil else {
                throw CacheError.badRequest(
                    "InvalidDuration", "x-artifact-duration must be an integer number of milliseconds")
            }
            attributes["duration"] = duration
        }
        if let tag = request.headers[HTTPField.Name("x-artifact-tag")!] {
            guard tag.count <= 600 else {
                throw CacheError.badRequest("InvalidTag", "x-artifact-tag is at most 600 characters")
            }
            attributes["tag"] = tag
        }
        let value = try await storage.receiveBlob(request)
        try await storage.metadata.putEntry(
            ActionEntry(namespace: "turbo/\(namespace)", key: hash, value: value, attributes: attributes)
        )
        return try .json(["urls": ["\(namespace)/\(hash)"]], status: .accepted)
    }
}
