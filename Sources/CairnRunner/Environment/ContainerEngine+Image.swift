import Foundation

extension ContainerEngine {
    /// The image's configured environment, `NAME=value` entries (`Config.Env`): what a container of it starts with.
    func imageEnvironment(_ image: String) async throws -> [String] {
        let json = try await output(["image", "inspect", "--format", "{{json .Config.Env}}", image])
        let trimmed = json.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed == "null" || trimmed.isEmpty { return [] }
        return try JSONDecoder().decode([String].self, from: Data(trimmed.utf8))
    }
}
