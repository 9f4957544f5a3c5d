import CairnCore
import Foundation

/// The root access key pair that signs S3 requests.
public struct RootCredentials: Sendable, Codable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String

    enum CodingKeys: String, CodingKey {
        case accessKeyID = "access_key_id"
        case secretAccessKey = "secret_access_key"
    }

    /// The credentials of the settings, or those stored in the data directory, or a new random pair stored there
    /// (mode 0600). `generated` tells the caller to print them once.
    public static func resolve(settings: ServerSettings) throws -> (credentials: RootCredentials, generated: Bool) {
        if let id = settings.rootAccessKeyID, let secret = settings.rootSecretAccessKey {
            return (RootCredentials(accessKeyID: id, secretAccessKey: secret), false)
        }
        let path = settings.dataDirectory + "/credentials.json"
        if FileManager.default.fileExists(atPath: path) {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            do {
                return (try JSONDecoder().decode(RootCredentials.self, from: data), false)
            } catch {
                throw SettingsError("\(path) is not valid credentials JSON: \(error); remove it to generate a new pair")
            }
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let id = "CAIRN" + SecureRandom.bytes(15).map { String(alphabet[Int($0) % alphabet.count]) }.joined()
        let secret = SecureRandom.bytes(30).base64String.replacingOccurrences(of: "/", with: "x")
            .replacingOccurrences(of: "+", with: "y")
        let credentials = RootCredentials(accessKeyID: id, secretAccessKey: secret)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(credentials)
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600])
        else {
            throw SettingsError("cannot write \(path)")
        }
        return (credentials, true)
    }
}
