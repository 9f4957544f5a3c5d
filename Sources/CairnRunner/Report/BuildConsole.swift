import Foundation

/// Where a build's output goes: the live stream of commands, phase headers and the summary.
public struct BuildConsole: Sendable {
    private let sink: @Sendable ([UInt8]) -> Void
    /// The live line, on a terminal.
    private let statusLine: StatusLine?

    /// A console that writes to `sink`.
    public init(sink: @escaping @Sendable ([UInt8]) -> Void) {
        self.sink = sink
        statusLine = nil
    }

    private init(statusLine: StatusLine) {
        self.statusLine = statusLine
        sink = { statusLine.output($0) }
    }

    /// A console that writes to `write` with a live status line below the output (see ``status(_:)``).
    static func terminal(_ write: @escaping @Sendable ([UInt8]) -> Void) -> BuildConsole {
        BuildConsole(statusLine: StatusLine(write: write))
    }

    /// Standard output, unbuffered; with a live status line when it is a terminal.
    public static let standardOutput: BuildConsole = {
        let write: @Sendable ([UInt8]) -> Void = { bytes in FileHandle.standardOutput.write(Data(bytes)) }
        return isatty(STDOUT_FILENO) == 1 ? BuildConsole.terminal(write) : BuildConsole(sink: write)
    }()

    /// Bytes from a command, as they arrive.
    public func raw(_ bytes: [UInt8]) { sink(bytes) }

    /// One line of the runner's own.
    public func line(_ text: String) { sink(Array((text + "\n").utf8)) }

    /// On a terminal, shows what the build is doing now (`BUILD running`) on the live line, with the time since;
    /// nil removes the line. Without a terminal, nothing.
    public func status(_ text: String?) { statusLine?.show(text) }
}
