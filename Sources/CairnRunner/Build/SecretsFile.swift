import Foundation

/// `--secrets-file`: values for `parameter-store` and `secrets-manager` names, kept out of the buildspec.
///
/// Either a JSON object of strings or `KEY=VALUE` lines (`#` starts a comment). Keys are the parameter name or
/// secret id the buildspec names (`/ssm/param`), or the local variable name.
public enum SecretsFile {
    public static func load(path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunnerError("cannot read the secrets file \(path)")
        }
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            return object.compactMapValues { $0 as? String ?? ($0 as? NSNumber)?.stringValue }
        }
        var values: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text.hasPrefix("#") { continue }
            guard let equals = text.firstIndex(of: "=") else {
                throw RunnerError("\(path): expected KEY=VALUE, found '\(text)'")
            }
            values[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        return values
    }
}
