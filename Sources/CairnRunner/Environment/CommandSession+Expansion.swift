import Foundation

extension CommandSession {
    /// Expands shell syntax in a name or key (`myname-$(date +%Y-%m-%d)`) in the build's session, as CodeBuild does.
    func expand(_ template: String) async throws -> String {
        let buffer = LogBuffer()
        let escaped = template.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let status = try await run("printf '%s' \"\(escaped)\"") { buffer.append($0) }
        guard status == 0 else { throw RunnerError("artifact name '\(template)' failed to expand") }
        return String(decoding: buffer.contents, as: UTF8.self)
    }
}
