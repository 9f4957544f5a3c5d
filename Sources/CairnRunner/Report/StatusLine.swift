import Foundation
import Synchronization

/// The one live line at the bottom of a terminal: what the build is doing now and for how long
/// (`[cairn] BUILD running, 12 s`), redrawn every second and erased before any other output, so that the
/// commands' own output scrolls above it. Only for a terminal: without one, nothing of it is ever written.
final class StatusLine: Sendable {
    private struct State {
        var text: String?
        var since = Date()
        var visible = false
        var ticker: Task<Void, Never>?
    }

    private let state = Mutex(State())
    private let write: @Sendable ([UInt8]) -> Void

    /// Erases the line the cursor is on.
    static let erase: [UInt8] = Array("\r\u{1B}[K".utf8)

    init(write: @escaping @Sendable ([UInt8]) -> Void) {
        self.write = write
    }

    /// Shows `text` with the time since this call, or removes the line (nil).
    func show(_ text: String?) {
        let previous = state.withLock { state -> Task<Void, Never>? in
            state.text = text
            state.since = Date()
            let ticker = state.ticker
            state.ticker = nil
            return ticker
        }
        previous?.cancel()
        redraw()
        guard text != nil else { return }
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { return }
                self?.redraw()
            }
        }
        state.withLock { $0.ticker = ticker }
    }

    /// Writes output above the line: erase it, write, draw it again after a complete line.
    func output(_ bytes: [UInt8]) {
        state.withLock { state in
            var out: [UInt8] = state.visible ? Self.erase : []
            out += bytes
            state.visible = false
            if bytes.last == UInt8(ascii: "\n"), let line = Self.line(state) {
                out += line
                state.visible = true
            }
            write(out)
        }
    }

    private func redraw() {
        state.withLock { state in
            var out: [UInt8] = state.visible ? Self.erase : []
            state.visible = false
            if let line = Self.line(state) {
                out += line
                state.visible = true
            }
            if !out.isEmpty { write(out) }
        }
    }

    private static func line(_ state: State) -> [UInt8]? {
        guard let text = state.text else { return nil }
        return Array("[cairn] \(text), \(Int(Date().timeIntervalSince(state.since))) s".utf8)
    }

    deinit {
        state.withLock { $0.ticker?.cancel() }
    }
}
