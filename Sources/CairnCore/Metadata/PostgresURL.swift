import Foundation
import PostgresNIO

/// A `postgres://user:password@host:port/database` URL (also `postgresql://`), as the configuration names a
/// PostgreSQL metadata store. `?sslmode=disable` (the default here) is the only TLS mode supported so far;
/// `?connect_timeout=SECONDS` (as libpq reads it; default 10) bounds how long a request waits for a connection.
public struct PostgresURL: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// How long connecting may take, and how long a request waits for a connection before it is refused as
    /// unavailable (`connect_timeout`, whole seconds as in libpq; default 10).
    public var connectTimeout: Duration = .seconds(10)

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
        if let value = components.queryItems?.first(where: { $0.name == "connect_timeout" })?.value {
            guard let seconds = Int(value), seconds > 0 else {
                throw PostgresMetadataError(
                    "connect_timeout=\(value) in the metadata URL is not a whole number of seconds above 0")
            }
            self.connectTimeout = .seconds(seconds)
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
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
        configuration.options.connectTimeout = connectTimeout
        return configuration
    }
}
