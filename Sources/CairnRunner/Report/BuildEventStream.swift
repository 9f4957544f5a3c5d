import Foundation
import Synchronization

/// Where `--json` events go: one JSON object per line, whole lines only, whichever build of a batch writes.
final class BuildEventStream: Sendable {
    private let write: Mutex<@Sendable ([UInt8]) -> Void>

    init(write: @escaping @Sendable ([UInt8]) -> Void) {
        self.write = Mutex(write)
    }

    func emit(_ event: BuildEvent) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(event) else { return }
        write.withLock { $0(Array(data) + [UInt8(ascii: "\n")]) }
    }
}
