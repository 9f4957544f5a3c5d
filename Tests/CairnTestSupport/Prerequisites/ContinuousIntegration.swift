import Foundation

/// Whether the tests run under CI, where a missing client fails the tests that need it instead of skipping them.
public enum ContinuousIntegration {
    /// True when `CI` is set to anything but an empty string, `false` or `0` (in any case).
    ///
    /// CI services set `CI=true` (some `CI=1`); a developer turns the rule off with `CI=false` or `CI=0`. This is the
    /// one place the rule is written down: every gated test asks here.
    public static var isActive: Bool {
        guard let value = ProcessInfo.processInfo.environment["CI"]?.trimmingCharacters(in: .whitespaces) else {
            return false
        }
        return !value.isEmpty && !["false", "0"].contains(value.lowercased())
    }
}
