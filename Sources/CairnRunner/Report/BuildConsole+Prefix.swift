import Foundation

extension BuildConsole {
    /// A console that writes whole lines to this one, each starting with `[prefix] `: the builds of a batch share
    /// standard output, and their commands' bytes arrive in arbitrary pieces. Call ``PrefixedLines/flush()`` at the
    /// end for a last line without a newline. The build shares this console's live display as `prefix`: its own
    /// line on a terminal, `build` in its events.
    func prefixed(_ prefix: String) -> (console: BuildConsole, lines: PrefixedLines) {
        let lines = PrefixedLines(prefix: Array("[\(prefix)] ".utf8), target: self)
        return (
            BuildConsole(
                sink: { lines.write($0) }, noticeSink: { lines.write($0, notice: true) }, live: live, build: prefix),
            lines
        )
    }
}

/// The line buffer behind ``BuildConsole/prefixed(_:)``.
final class PrefixedLines: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private let prefix: [UInt8]
    private let target: BuildConsole
    private var pending: [UInt8] = []

    init(prefix: [UInt8], target: BuildConsole) {
        self.prefix = prefix
        self.target = target
    }

    /// Adds `bytes` and writes the lines they complete; `notice` lines go where ``BuildConsole/notice(_:)`` writes.
    func write(_ bytes: [UInt8], notice: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        pending += bytes
        guard let last = pending.lastIndex(of: UInt8(ascii: "\n")) else { return }
        var out: [UInt8] = []
        for line in pending[...last].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            out += prefix + line + [UInt8(ascii: "\n")]
        }
        pending.removeSubrange(...last)
        if notice { target.noticeRaw(out) } else { target.raw(out) }
    }

    func flush() {
        lock.lock()
        defer { lock.unlock() }
        guard !pending.isEmpty else { return }
        target.raw(prefix + pending + [UInt8(ascii: "\n")])
        pending = []
    }
}
