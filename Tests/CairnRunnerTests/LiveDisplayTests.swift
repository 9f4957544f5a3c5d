import Foundation
import Synchronization
import Testing

@testable import CairnRunner

/// The live display alone: status lines and transfer counts as a terminal gets them, and the plain lines' rate limit
/// with instants given, not waited for.
@Suite("live display")
struct LiveDisplayTests {
    /// What a console wrote.
    final class Capture: Sendable {
        private let bytes = Mutex<[UInt8]>([])
        func append(_ more: [UInt8]) { bytes.withLock { $0 += more } }
        var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
    }

    @Test("a transfer's counts read as files or blobs with one unit for both byte counts, and a bar")
    func countsAsText() {
        let counts = TransferProgress.Counts(files: 1, totalFiles: 4, bytes: 500, totalBytes: 2000)
        #expect(counts.text(.store) == "1/4 blobs, 0.5/2.0 KB")
        #expect(counts.text(.restore) == "1/4 files, 0.5/2.0 KB")
        #expect(counts.bar(width: 10) == "[==>       ]  25%")
        let done = TransferProgress.Counts(files: 4, totalFiles: 4, bytes: 2_500_000_000, totalBytes: 2_500_000_000)
        #expect(done.text(.restore) == "4/4 files, 2.5/2.5 GB")
        #expect(done.bar(width: 10) == "[==========] 100%")
    }

    @Test("a rate limit lets one thing through per interval, and a forced one always")
    func rateLimit() {
        let limit = RateLimit(interval: .seconds(5))
        let start = ContinuousClock.now
        #expect(limit.admit(now: start))
        #expect(!limit.admit(now: start + .milliseconds(4_900)))
        #expect(limit.admit(now: start + .seconds(5)))
        #expect(!limit.admit(now: start + .seconds(6)))
        #expect(limit.admit(now: start + .seconds(7), force: true))
        #expect(!limit.admit(now: start + .seconds(8)), "a forced one counts too")
    }

    @Test("on a terminal a transfer shows its counts on the phase's line, from the first to the last")
    func terminalShowsTransferCounts() throws {
        let capture = Capture()
        let console = BuildConsole.terminal({ capture.append($0) }, width: 120)
        console.status("BUILD restoring")
        let transfer = console.transfer(.restore, of: "BUILD")
        transfer.begin(files: 2, bytes: 3_000_000)
        transfer.transferred(bytes: 1_500_000)
        transfer.completedFile()
        transfer.transferred(bytes: 1_500_000)
        transfer.completedFile()
        transfer.finish()
        let text = capture.text
        #expect(text.contains(try Regex(#"\[cairn\] BUILD restoring, \d+ s: 0/2 files, 0\.0/3\.0 MB"#)), "\(text)")
        #expect(text.contains("2/2 files, 3.0/3.0 MB"), "the last counts are drawn: \(text)")
        console.status(nil)
        #expect(capture.text.hasSuffix(String(decoding: StatusLine.erase, as: UTF8.self)))
    }

    @Test("the builds of a batch each have a line, erased together before output and drawn again after it")
    func batchRows() throws {
        let capture = Capture()
        let console = BuildConsole.terminal({ capture.append($0) }, width: 120)
        let first = console.prefixed("first")
        let second = console.prefixed("second")
        first.console.status("BUILD running")
        second.console.status("INSTALL restoring")
        let rows = try Regex(#"\[cairn\] first: BUILD running, \d+ s\n\[cairn\] second: INSTALL restoring, \d+ s$"#)
        #expect(capture.text.contains(rows), "\(capture.text)")
        first.console.line("hello")
        let text = capture.text
        #expect(text.contains("\r\u{1B}[K\u{1B}[A\u{1B}[K[first] hello\n[cairn] first: BUILD running"), "\(text)")
        first.console.status(nil)
        second.console.status(nil)
        #expect(capture.text.hasSuffix("\r\u{1B}[K"), "the last line is erased: \(capture.text)")
    }
}
