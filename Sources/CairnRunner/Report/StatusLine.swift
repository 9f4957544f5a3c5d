import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The live lines at the bottom of a terminal: what the build is doing now and for how long
/// (`[cairn] BUILD running, 12 s`) — in a batch, one line per running build (`[cairn] build1: BUILD restoring, 3 s`)
/// — redrawn every second and erased before any other output, so that the commands' own output scrolls above them.
/// A transfer shows its counts on its line, and a bar once it has run for two seconds. Only for a terminal: without
/// one, nothing of it is ever written.
final class StatusLine: Sendable {
    private struct Row {
        var id: String
        var text: String
        var since = Date()
        var transfer: (direction: TransferProgress.Direction, counts: TransferProgress.Counts, elapsed: Duration)?
    }

    private struct State {
        var rows: [Row] = []
        /// How many lines are on the screen now.
        var visible = 0
        var ticker: Task<Void, Never>?
        var lastDraw = ContinuousClock.now
    }

    private let state = Mutex(State())
    private let write: @Sendable ([UInt8]) -> Void
    /// The terminal's width: longer lines are cut, since a wrapped line would not be erased whole.
    private let width: Int

    /// Erases the line the cursor is on.
    static let erase: [UInt8] = Array("\r\u{1B}[K".utf8)
    /// Moves up a line and erases it.
    static let eraseAbove: [UInt8] = Array("\u{1B}[A\u{1B}[K".utf8)
    /// A transfer shorter than this shows no bar.
    static let barAfter = Duration.seconds(2)

    init(write: @escaping @Sendable ([UInt8]) -> Void, width: Int = StatusLine.terminalWidth()) {
        self.write = write
        self.width = max(width, 20)
    }

    /// The width of the terminal on standard output; 80 when it says none.
    static func terminalWidth() -> Int {
        var size = winsize()
        let status = withUnsafeMutablePointer(to: &size) { ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), $0) }
        guard status == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// Shows `text` on the line `row` with the time since this call, or removes the line (nil).
    func show(_ text: String?, row id: String = "") {
        let ticker = state.withLock { state -> Task<Void, Never>? in
            state.rows.removeAll { $0.id == id }
            if let text { state.rows.append(Row(id: id, text: text)) }
            guard state.rows.isEmpty || state.ticker == nil else { return nil }
            let previous = state.ticker
            state.ticker = state.rows.isEmpty ? nil : makeTicker()
            return previous
        }
        ticker?.cancel()
        redraw()
    }

    /// Shows a transfer's counts on the line `row` until the line changes. The first and the last report are drawn
    /// at once, the others at most ten times a second.
    func progress(
        row id: String, _ direction: TransferProgress.Direction, _ counts: TransferProgress.Counts, final: Bool,
        elapsed: Duration
    ) {
        let due = state.withLock { state -> Bool in
            guard let index = state.rows.firstIndex(where: { $0.id == id }) else { return false }
            let first = state.rows[index].transfer == nil
            state.rows[index].transfer = (direction, counts, elapsed)
            return first || final || ContinuousClock.now - state.lastDraw >= .milliseconds(100)
        }
        if due { redraw() }
    }

    private func makeTicker() -> Task<Void, Never> {
        Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { return }
                self?.redraw()
            }
        }
    }

    /// Writes output above the lines: erase them, write, draw them again after a complete line.
    func output(_ bytes: [UInt8]) {
        state.withLock { state in
            var out = Self.eraseSequence(state.visible)
            out += bytes
            state.visible = 0
            if bytes.last == UInt8(ascii: "\n") { out += draw(&state) }
            write(out)
        }
    }

    private func redraw() {
        state.withLock { state in
            var out = Self.eraseSequence(state.visible)
            state.visible = 0
            out += draw(&state)
            if !out.isEmpty { write(out) }
        }
    }

    /// The bytes that erase `lines` lines, the cursor on the last of them, and leave the cursor where the first began.
    private static func eraseSequence(_ lines: Int) -> [UInt8] {
        guard lines > 0 else { return [] }
        return erase + Array(repeating: eraseAbove, count: lines - 1).flatMap { $0 }
    }

    /// The lines, the cursor left at the end of the last.
    private func draw(_ state: inout State) -> [UInt8] {
        state.lastDraw = .now
        state.visible = state.rows.count
        let lines = state.rows.map { row -> String in
            var text = "[cairn] " + (row.id.isEmpty ? "" : row.id + ": ") + row.text
            text += ", \(Int(Date().timeIntervalSince(row.since))) s"
            if let transfer = row.transfer {
                text += ": " + transfer.counts.text(transfer.direction)
                // The bar takes what the line leaves, up to 20 columns: ` [` + bar + `] 100%`.
                let barWidth = min(20, width - 1 - text.count - 8)
                if transfer.elapsed >= Self.barAfter && barWidth >= 5 {
                    text += " " + transfer.counts.bar(width: barWidth)
                }
            }
            return String(text.prefix(width - 1))
        }
        return Array(lines.joined(separator: "\n").utf8)
    }

    deinit {
        state.withLock { $0.ticker?.cancel() }
    }
}
