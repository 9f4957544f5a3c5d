import Foundation

/// A CodeBuild path pattern: `*` matches within one path component, `**` across components, `?` one character.
public struct Glob: Sendable {
    public let pattern: String
    private let expression: NSRegularExpression

    public init(_ pattern: String) throws {
        self.pattern = pattern
        var regex = "^"
        var characters = Array(pattern.hasPrefix("./") ? String(pattern.dropFirst(2)) : pattern)
        if characters.last == "/" { characters.append(contentsOf: "**/*") }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "*" {
                if index + 1 < characters.count && characters[index + 1] == "*" {
                    if index + 2 < characters.count && characters[index + 2] == "/" {
                        regex += "(?:.*/)?"
                        index += 3
                    } else {
                        regex += ".*"
                        index += 2
                    }
                    continue
                }
                regex += "[^/]*"
            } else if character == "?" {
                regex += "[^/]"
            } else {
                regex += NSRegularExpression.escapedPattern(for: String(character))
            }
            index += 1
        }
        regex += "$"
        do {
            expression = try NSRegularExpression(pattern: regex)
        } catch {
            throw RunnerError("invalid path pattern '\(pattern)'")
        }
    }

    /// Whether a relative path matches.
    public func matches(_ path: String) -> Bool {
        expression.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
    }
}
