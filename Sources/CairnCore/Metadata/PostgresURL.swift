import Foundation
import PostgresNIO

/// A `postgres://user:password@host:port/database` URL (also `postgresql://`), as the configuration names a
/// PostgreSQL metadata store. `?sslmode=disable` (the default here) is the only TLS mode supported so far.
public struct PostgresURL: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String

    /// Parses the URL; throws ``PostgresMetadataError`` saying what is missing.
    public init(_ text: String) throws {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else {
            throw PostgresMetadataError(
                "metadata URL \"\(Self.redacted(text))\" is not postgres://user:password@host:port/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresMetadataError("metadata URL \"\(Self.redacted(text))\" names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw PostgresMetadataError("metadata URL \"\(Self.redacted(text))\" names no user (postgres://USER@…)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw PostgresMetadataError("metadata URL \"\(Self.redacted(text))\" names no database (…/DATABASE)")
        }
        if let mode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value, mode != "disable" {
            throw PostgresMetadataError(
                "sslmode=\(mode) is not supported yet; use sslmode=disable on a trusted network")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database
    }

    /// The URL without its password, for messages and logs.
    public static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }

    var clientConfiguration: PostgresClient.Configuration {
        PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
    }
}
