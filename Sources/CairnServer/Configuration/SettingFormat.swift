import CairnCore
import Foundation
import Yams

/// How one setting's value is written — as YAML in the configuration file, as text in an environment variable or a
/// flag — and what it must be.
///
/// Numbers in the file are read by Yams' own scalar rules (as its decoder reads them); numbers in the environment and
/// in flags by Swift's, as they always were. A parser answers nil for a value it refuses; the caller names the
/// setting and its ``expectation`` in the error.
struct SettingFormat<Value: Sendable & Equatable>: Sendable {
    /// What a valid value is, completing "… must be": "a positive number of bytes".
    let expectation: String
    let parseText: @Sendable (_ text: String, _ key: String) throws -> Value?
    let parseNode: @Sendable (_ node: Node, _ key: String) throws -> Value?
    /// The value as it is written in the configuration file.
    let render: @Sendable (Value) -> String
}

extension SettingFormat where Value == String {
    /// Any text, taken as it is.
    static var text: SettingFormat {
        SettingFormat(
            expectation: "text", parseText: { text, _ in text },
            parseNode: { node, _ in node.scalar.flatMap(String.construct(from:)) }, render: { $0 })
    }
}

extension SettingFormat where Value: ScalarConstructible & LosslessStringConvertible & Comparable {
    /// A number, refused unless `isValid`.
    static func number(_ expectation: String, _ isValid: @escaping @Sendable (Value) -> Bool) -> SettingFormat {
        SettingFormat(
            expectation: expectation,
            parseText: { text, _ in Value(text).flatMap { isValid($0) ? $0 : nil } },
            parseNode: { node, _ in node.scalar.flatMap(Value.construct(from:)).flatMap { isValid($0) ? $0 : nil } },
            render: Self.describe)
    }

    private static func describe(_ value: Value) -> String {
        // 900.0 is written 900 in the file.
        if let double = value as? Double, double.rounded() == double, abs(double) < 1e15 { return "\(Int64(double))" }
        return "\(value)"
    }
}

extension SettingFormat where Value == Bool {
    /// `true` or `false` (YAML's spellings in the file; `true`/`false`/`1`/`0` in the environment and flags).
    static var bool: SettingFormat {
        SettingFormat(
            expectation: "true or false",
            parseText: { text, _ in
                switch text.lowercased() {
                case "true", "1", "yes": true
                case "false", "0", "no": false
                default: nil
                }
            },
            parseNode: { node, _ in node.scalar.flatMap(Bool.construct(from:)) },
            render: { $0 ? "true" : "false" })
    }
}

extension SettingFormat where Value == TimeInterval {
    /// A number of days in the file, the environment and flags; seconds in ``ServerSettings``.
    static func days(_ expectation: String = "a number of days (fractions allowed)") -> SettingFormat {
        let day = 86400.0
        let count = SettingFormat.number(expectation) { $0 >= 0 }
        return SettingFormat(
            expectation: expectation,
            parseText: { try count.parseText($0, $1).map { $0 * day } },
            parseNode: { try count.parseNode($0, $1).map { $0 * day } },
            render: { count.render($0 / day) })
    }
}

extension SettingFormat {
    /// A value that may be absent: `null` in the file.
    static func optional<Wrapped>(_ base: SettingFormat<Wrapped>) -> SettingFormat where Value == Wrapped? {
        SettingFormat(
            expectation: base.expectation,
            parseText: { try base.parseText($0, $1).map { .some($0) } },
            parseNode: { try base.parseNode($0, $1).map { .some($0) } },
            render: { $0.map(base.render) ?? "null" })
    }
}

extension SettingFormat where Value == [String: RetentionPolicy.Expiry] {
    /// Expiry rules by name (bucket or cache namespace): a YAML mapping in the file, and the same mapping written
    /// inline in the environment (`{logs: {expire_after_days: 30}}`).
    static var expiryRules: SettingFormat {
        let days = SettingFormat<TimeInterval>.days()
        let fields: [String: any WritableKeyPath<RetentionPolicy.Expiry, TimeInterval?> & Sendable] = [
            "expire_after_days": \.maximumAge, "idle_after_days": \.maximumIdle,
        ]
        @Sendable func rule(_ node: Node, _ key: String) throws -> RetentionPolicy.Expiry {
            var rule = RetentionPolicy.Expiry()
            if node.null != nil { return rule }
            guard let fieldNodes = node.mapping else {
                throw SettingsError("\(key) must be a mapping of expire_after_days and idle_after_days")
            }
            for (fieldNode, valueNode) in fieldNodes {
                let field = fieldNode.string ?? ""
                guard let path = fields[field] else { throw SettingsError("unknown key \"\(key).\(field)\"") }
                if valueNode.null != nil { continue }
                guard let value = try days.parseNode(valueNode, key) else {
                    throw SettingsError("\(key).\(field) must be \(days.expectation)")
                }
                rule[keyPath: path] = value
            }
            return rule
        }
        @Sendable func parse(_ node: Node, _ key: String) throws -> Value? {
            if node.null != nil { return [:] }
            guard let mapping = node.mapping else { return nil }
            var rules: Value = [:]
            for (nameNode, ruleNode) in mapping {
                guard let name = nameNode.string else { return nil }
                rules[name] = try rule(ruleNode, "\(key).\(name)")
            }
            return rules
        }
        return SettingFormat(
            expectation: "a mapping of names to expire_after_days and idle_after_days",
            parseText: { text, key in try Yams.compose(yaml: text).map { try parse($0, key) } ?? [:] },
            parseNode: parse,
            render: { rules in
                let entries = rules.sorted { $0.key < $1.key }.map { name, rule in
                    let fields = fields.sorted { $0.key < $1.key }.compactMap { field, path in
                        rule[keyPath: path].map { "\(field): \(days.render($0))" }
                    }
                    return "\(name): {\(fields.joined(separator: ", "))}"
                }
                return "{\(entries.joined(separator: ", "))}"
            })
    }
}
