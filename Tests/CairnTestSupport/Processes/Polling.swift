import Foundation

/// Waits for something another process does (a file appears, a log line is printed): a test waits for the event
/// itself, never for a fixed time it hopes is long enough.
public enum Polling {
    /// Checks `condition` every `interval` until it holds; returns false when `timeout` passes first.
    @discardableResult
    public static func wait(
        timeout: TimeInterval, interval: TimeInterval = 0.01, until condition: () throws -> Bool
    ) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if try condition() { return true }
            if Date() >= deadline { return false }
            Thread.sleep(forTimeInterval: interval)
        }
    }
}
