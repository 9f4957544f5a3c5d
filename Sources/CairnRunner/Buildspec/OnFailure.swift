import Foundation

/// A phase's `on-failure` value: `ABORT`, `CONTINUE`, `RETRY`, `RETRY-<n>`, `RETRY-<regex>`, `RETRY-<n>-<regex>`.
public enum OnFailure: Sendable, Hashable {
    case abort
    case `continue`
    /// Rerun the phase up to `count` more times while its output matches `pattern`.
    case retry(count: Int, pattern: String)

    /// Parses the buildspec text; nil when it is none of CodeBuild's forms.
    public init?(_ text: String) {
        switch text {
        case "ABORT": self = .abort
        case "CONTINUE": self = .continue
        case "RETRY": self = .retry(count: 3, pattern: ".*")
        default:
            guard text.hasPrefix("RETRY-") else { return nil }
            let rest = text.dropFirst("RETRY-".count)
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            if !digits.isEmpty, digits.count == rest.count {
                guard let count = Int(digits), count <= 100 else { return nil }
                self = .retry(count: count, pattern: ".*")
            } else if !digits.isEmpty, rest.dropFirst(digits.count).first == "-" {
                guard let count = Int(digits), count <= 100 else { return nil }
                let pattern = String(rest.dropFirst(digits.count + 1))
                guard !pattern.isEmpty, (try? NSRegularExpression(pattern: pattern)) != nil else { return nil }
                self = .retry(count: count, pattern: pattern)
            } else {
                let pattern = String(rest)
                guard !pattern.isEmpty, (try? NSRegularExpression(pattern: pattern)) != nil else { return nil }
                self = .retry(count: 3, pattern: pattern)
            }
        }
    }

    /// The buildspec spelling.
    public var text: String {
        switch self {
        case .abort: "ABORT"
        case .continue: "CONTINUE"
        case .retry(let count, let pattern): pattern == ".*" ? "RETRY-\(count)" : "RETRY-\(count)-\(pattern)"
        }
    }
}
