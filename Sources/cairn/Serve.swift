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

            Every setting's environment variable, key in the configuration file and default:

            """
                + ServerSetting.all.map { "  \($0.environmentVariable) (\($0.key), \($0.defaultValue))" }
                .joined(separator: "\n")
    )

    @Option(name: .customLong(ServerSetting.address.flag!), help: .init(ServerSetting.address.help))
    var address: String?

    @Option(name: .customLong(ServerSetting.dataDirectory.flag!), help: .init(ServerSetting.dataDirectory.help))
    var dataDirectory: String?

    @Option(
        help: .init(
            "Configuration file (default \(ServerSettings.defaultConfigFile)). "
                + "Env: \(ServerSettings.configFileEnvironmentVariable)."))
    var config: String?

    @Option(name: .customLong(ServerSetting.tlsCertificate.flag!), help: .init(ServerSetting.tlsCertificate.help))
    var tlsCertificate: String?

    @Option(name: .customLong(ServerSetting.tlsKey.flag!), help: .init(ServerSetting.tlsKey.help))
    var tlsKey: String?

    func resolveSettings(environment: [String: String]) throws -> ServerSettings {
        var settings = try ServerSettings.resolve(configFile: config, environment: environment)
        let flags: [(ServerSetting, String?)] = [
            (.address, address), (.dataDirectory, dataDirectory), (.tlsCertificate, tlsCertificate), (.tlsKey, tlsKey),
        ]
        for case (let setting, let value?) in flags { try settings.applyFlag(setting, value) }
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
