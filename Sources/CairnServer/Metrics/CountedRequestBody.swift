import Hummingbird
import NIOCore
import Synchronization

/// A request body that counts the bytes read from it, for `cairn_received_bytes_total`: a chunked body
/// (`Transfer-Encoding: chunked`, often carrying `aws-chunked`) declares no length, and a declared one may be read
/// only in part.
struct CountedRequestBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let base: RequestBody
    let count: Tally

    /// The bytes read so far; read from the task that answers the request, written by whichever reads the body.
    final class Tally: Sendable {
        private let bytes = Atomic<Int64>(0)

        func add(_ count: Int) { bytes.wrappingAdd(Int64(count), ordering: .relaxed) }

        var value: Int64 { bytes.load(ordering: .relaxed) }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let count: Tally

        mutating func next() async throws -> ByteBuffer? {
            let buffer = try await base.next()
            if let buffer { count.add(buffer.readableBytes) }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), count: count)
    }
}
