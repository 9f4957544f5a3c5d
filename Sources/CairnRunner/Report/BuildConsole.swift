import Foundation

/// Where a build's output goes: the live stream of commands, phase headers and the summary, plus the live display:
/// status lines and transfer progress on a terminal, rate-limited progress lines without one, or `--json` events.
public struct BuildConsole: Sendable {
    /// How `cairn build` writes to standard output.
    public enum Style: Sendable {
        /// Everything, for a person: live lines on a terminal, plain lines in a log.
        case human
        /// Only warnings and the verdict line (`--quiet`).
        case quiet
        /// Events as JSON lines on standard output; the commands' output and the runner's lines go to standard
        /// error (`--json`).
        case json
    }

    /// What is shown besides the output itself.
    enum Live: Sendable {
        case none
        case terminal(StatusLine)
        /// Without a terminal: progress lines share one limit of a line every ``plainProgressInterval``.
        case plain(RateLimit)
        case json(BuildEventStream)
    }

    private let sink: @Sendable ([UInt8]) -> Void
    /// Where lines go that `--quiet` keeps (warnings, the verdict); the same as `sink` otherwise.
    private let noticeSink: @Sendable ([UInt8]) -> Void
    let live: Live
    /// The build's identifier in a batch: its line on the terminal and the `build` of its events.
    let build: String?

    /// A console that writes to `sink`, with no live display.
    public init(sink: @escaping @Sendable ([UInt8]) -> Void) {
        self.init(sink: sink, noticeSink: sink, live: .none, build: nil)
    }

    init(
        sink: @escaping @Sendable ([UInt8]) -> Void, noticeSink: @escaping @Sendable ([UInt8]) -> Void, live: Live,
        build: String?
    ) {
        self.sink = sink
        self.noticeSink = noticeSink
        self.live = live
        self.build = build
    }

    /// A console that writes to `write` with live status lines below the output (see ``status(_:)``).
    static func terminal(_ write: @escaping @Sendable ([UInt8]) -> Void, width: Int = 80) -> BuildConsole {
        let statusLine = StatusLine(write: write, width: width)
        let output: @Sendable ([UInt8]) -> Void = { statusLine.output($0) }
        return BuildConsole(sink: output, noticeSink: output, live: .terminal(statusLine), build: nil)
    }

    /// A console for a log: plain lines, progress at most every five seconds.
    static func plain(_ write: @escaping @Sendable ([UInt8]) -> Void) -> BuildConsole {
        BuildConsole(
            sink: write, noticeSink: write, live: .plain(RateLimit(interval: plainProgressInterval)), build: nil)
    }

    /// Without a terminal, a transfer's first progress line comes after this long, and then at most one line (of
    /// any transfer) every this long.
    static let plainProgressInterval = Duration.seconds(5)
    /// The shortest time between two `--json` progress events of one transfer (its first and last are always
    /// written).
    static let eventProgressInterval = Duration.seconds(1)

    /// Standard output, unbuffered; with live status lines when it is a terminal.
    public static let standardOutput = standard(.human)

    /// Standard output in `style` (standard error too, for `--json`).
    public static func standard(_ style: Style) -> BuildConsole {
        let out: @Sendable ([UInt8]) -> Void = { FileHandle.standardOutput.write(Data($0)) }
        switch style {
        case .human:
            return isatty(STDOUT_FILENO) == 1
                ? .terminal(out, width: StatusLine.terminalWidth()) : .plain(out)
        case .quiet:
            return BuildConsole(sink: { _ in }, noticeSink: out, live: .none, build: nil)
        case .json:
            let err: @Sendable ([UInt8]) -> Void = { FileHandle.standardError.write(Data($0)) }
            return BuildConsole(sink: err, noticeSink: err, live: .json(BuildEventStream(write: out)), build: nil)
        }
    }

    /// Bytes from a command, as they arrive.
    public func raw(_ bytes: [UInt8]) { sink(bytes) }

    /// One line of the runner's own.
    public func line(_ text: String) { sink(Array((text + "\n").utf8)) }

    /// A line that `--quiet` keeps too: a warning, the verdict.
    public func notice(_ text: String) { noticeSink(Array((text + "\n").utf8)) }

    /// Whole lines that `--quiet` keeps too.
    func noticeRaw(_ bytes: [UInt8]) { noticeSink(bytes) }

    /// Shows what the build is doing now (`BUILD running`): on a terminal on its live line, with the time since
    /// (nil removes the line); in a batch without a terminal, as a plain line. Otherwise nothing.
    public func status(_ text: String?) {
        switch live {
        case .terminal(let statusLine): statusLine.show(text, row: build ?? "")
        case .plain:
            if build != nil, let text { line("[cairn] \(text)") }
        case .none, .json: break
        }
    }

    /// Writes a `--json` event; nothing in other styles.
    func event(_ event: BuildEvent) {
        guard case .json(let stream) = live else { return }
        var event = event
        event.build = build
        stream.emit(event)
    }

    /// A transfer of `subject`'s files (a phase's type, `BUILD`, or `CACHE` for the buildspec's `cache` section),
    /// shown as it goes: counts on the live line (a bar after two seconds), a plain line at most every five seconds,
    /// or `progress` events at most every second and at its end.
    func transfer(_ direction: TransferProgress.Direction, of subject: String) -> TransferProgress {
        let verb = ["restore": "restoring", "store": "storing", "upload": "uploading"][direction.rawValue]!
        let label = "\(subject) \(verb)"
        switch live {
        case .none:
            return TransferProgress(direction: direction) { _, _, _ in }
        case .terminal(let statusLine):
            let row = build ?? ""
            return TransferProgress(direction: direction) { counts, final, elapsed in
                statusLine.progress(row: row, direction, counts, final: final, elapsed: elapsed)
            }
        case .plain(let limit):
            return TransferProgress(direction: direction) { counts, final, elapsed in
                guard !final, elapsed >= Self.plainProgressInterval, limit.admit() else { return }
                line("[cairn] \(label): \(counts.text(direction)) " + counts.bar(width: 20))
            }
        case .json:
            let limit = RateLimit(interval: Self.eventProgressInterval)
            return TransferProgress(direction: direction) { counts, final, _ in
                guard limit.admit(force: final) else { return }
                event(.progress(subject, direction, counts, final: final))
            }
        }
    }
}
