import ArgumentParser
import CairnServer
import Foundation
import Hummingbird
import Logging

/// `cairn serve`: runs the server until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the Cairn server.",
        discussion: """
            Settings come from, highest first: these flags, CAIRN_* environment variables, the configuration file \
            (default \(ServerSettings.defaultConfigFile), optional) and built-in defaults. See config/cairn.yaml.
            """
    )

    @Option(
        help: "Address to listen on, HOST:PORT (default 127.0.0.1:9000; port 0 picks a free port). Env: CAIRN_ADDRESS.")
    var address: String?

    @Option(name: .customLong("data-dir"), help: "Data directory (default storage/). Env: CAIRN_DATA_DIR.")
    var dataDirectory: String?

    @Option(help: "Configuration file (default \(ServerSettings.defaultConfigFile)). Env: CAIRN_CONFIG.")
    var config: String?

    @Option(
        name: .customLong("tls-cert"), help: "PEM certificate chain; with --tls-key, serve HTTPS. Env: CAIRN_TLS_CERT.")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert. Env: CAIRN_TLS_KEY.")
    var tlsKey: String?

    func resolveSettings(environment: [String: String]) throws -> ServerSettings {
        let explicitFile = config ?? environment["CAIRN_CONFIG"]
        var settings = try ServerSettings.load(
            file: explicitFile ?? ServerSettings.defaultConfigFile, required: explicitFile != nil
        )
        try settings.applyEnvironment(environment)
        if let address { settings.address = address }
        if let dataDirectory { settings.dataDirectory = dataDirectory }
        if let tlsCertificate { settings.tlsCertificate = tlsCertificate }
        if let tlsKey { settings.tlsKey = tlsKey }
        try settings.validate()
        return settings
    }

    func run() async throws {
        let settings: ServerSettings
        do {
            settings = try resolveSettings(environment: ProcessInfo.processInfo.environment)
        } catch let error as SettingsError {
            throw ValidationError(error.description)
        }
        MemoryTuning.apply()
        var logger = Logger(label: "cairn")
        logger.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
        let app = try await CairnServer.buildApplication(settings: settings, logger: logger) { url in
            // Unbuffered: scripts and tests wait for this line on a pipe.
            FileHandle.standardOutput.write(
                Data("Cairn listening on \(url) (data directory \(settings.dataDirectory))\n".utf8))
        }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}
