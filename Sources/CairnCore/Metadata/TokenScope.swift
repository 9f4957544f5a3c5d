/// What a token may be used for. A token holds one or more scopes; the root credentials hold them all.
///
/// - ``cache``: the build-cache protocols and the runner's API, limited to the token's namespace (and to reads
///   when the token is read-only). Every token made before scopes existed has this scope alone.
/// - ``metrics``: scraping `GET /_cairn/metrics`.
/// - ``console``: logging in to the web console and reading every page of it (every bucket, object and namespace,
///   downloads included), and asking retention for a dry run.
/// - ``admin``: what ``console`` allows, and the console's changes (deleting objects, creating and revoking
///   tokens), and running retention (`POST /_cairn/admin/gc`).
///
/// A token's namespace limits its ``cache`` scope only; the other scopes concern the whole server, which is why a
/// token with ``console`` or ``admin`` must be made for namespace `*` (see ``CacheToken/validate()``).
public enum TokenScope: String, CaseIterable, Sendable, Hashable, Codable, Comparable {
    case cache
    case metrics
    case console
    case admin

    /// The scope of a token made without naming one: what every token could do before scopes existed.
    public static let defaults: Set<TokenScope> = [.cache]

    /// The scopes in a comma- or space-separated list (`cache,metrics`); throws naming the unknown one.
    public static func parse(_ text: String) throws -> Set<TokenScope> {
        var scopes: Set<TokenScope> = []
        for name in text.split(whereSeparator: { $0 == "," || $0 == " " }) {
            guard let scope = TokenScope(rawValue: name.lowercased()) else {
                throw TokenScopeError(
                    message: "unknown token scope \"\(name)\": use \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            scopes.insert(scope)
        }
        return scopes
    }

    /// The scopes as stored and shown: sorted, comma-separated.
    public static func text(_ scopes: Set<TokenScope>) -> String {
        scopes.sorted().map(\.rawValue).joined(separator: ",")
    }

    public static func < (lhs: TokenScope, rhs: TokenScope) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A list of token scopes that cannot be used: an unknown name, or scopes that need namespace `*`.
public struct TokenScopeError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public var description: String { message }
}
