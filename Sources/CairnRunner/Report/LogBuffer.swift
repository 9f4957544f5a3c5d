import Foundation

/// Collects a phase's output while it streams to the console.
final class LogBuffer: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var bytes: [UInt8] = []

    func append(_ chunk: [UInt8]) {
        lock.lock()
        bytes += chunk
        lock.unlock()
    }

    var contents: [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return bytes
    }
}
