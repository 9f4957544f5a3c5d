import Foundation

/// Where a build's output goes: the live stream of commands, phase headers and the summary.
public struct BuildConsole: Sendable {
    private let sink: @Sendable ([UInt8]) -> Void

    /// A console that writes to `sink`.
    public init(sink: @escaping @Sendable ([UInt8]) -> Void) {
        self.sink = sink
    }

    /// Standard output, unbuffered.
    public static let standardOutput = BuildConsole { bytes in
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Bytes from a command, as they arrive.
    public func raw(_ bytes: [UInt8]) { sink(bytes) }

    /// One line of the runner's own.
    public func line(_ text: String) { sink(Array((text + "\n").utf8)) }
}
