import CairnHTTP
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Puts file regions into a plain HTTP/1.1 response body, in order with the body's buffers, so that the kernel
/// sends their bytes from the page cache (`sendfile`) instead of the server reading and writing them.
///
/// Hummingbird's response writer carries buffers only (`HTTPResponsePart`). ``ChannelFileSender`` queues a region
/// here, then writes an empty body buffer through the response writer as a marker. When the marker reaches this
/// handler — behind everything the response wrote before it, since the pipeline keeps order — the handler writes the
/// queued regions in its place, below the HTTP-types codec, where a body part may be a file region. Each region's
/// file is closed once its write completes or fails. Empty body buffers with nothing queued pass as they are.
///
/// Not installed on TLS connections: encryption needs every byte in the process.
final class FileRegionHandler: ChannelOutboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Regions waiting for their marker: queued by a response's task, taken on the event loop.
    private let queued = NIOLockedValueBox<[FileRegion]>([])
    /// The HTTP-types codec's context: writing there hands a part to the HTTP/1 encoder. Only used on the event
    /// loop (set when the handler is added, after the codec).
    private var codec: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        codec = try? context.pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closeQueued()
    }

    /// Queues a region to be written when the next empty body buffer passes.
    func enqueue(_ region: FileRegion) {
        queued.withLockedValue { $0.append(region) }
    }

    /// Closes the files of regions no marker took (the response failed before its marker was written).
    func closeQueued() {
        for region in takeQueued() { try? region.fileHandle.close() }
    }

    private func takeQueued() -> [FileRegion] {
        queued.withLockedValue { regions in
            defer { regions = [] }
            return regions
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .body(let buffer) = unwrapOutboundIn(data), buffer.readableBytes == 0 else {
            context.write(data, promise: promise)
            return
        }
        let regions = takeQueued()
        guard !regions.isEmpty else {
            context.write(data, promise: promise)
            return
        }
        guard let codec else {
            // No HTTP/1 codec to write below (never in the pipelines Cairn builds): cut the response off rather
            // than leave its client waiting for bytes that will not come.
            for region in regions { try? region.fileHandle.close() }
            promise?.fail(ChannelError.operationUnsupported)
            context.close(promise: nil)
            return
        }
        for (index, region) in regions.enumerated() {
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in try? region.fileHandle.close() }
            if index == regions.count - 1, let promise { written.futureResult.cascade(to: promise) }
            codec.write(NIOAny(HTTPServerResponsePart.body(.fileRegion(region))), promise: written)
        }
    }
}

/// The ``FileBodySender`` of one plain HTTP/1.1 connection: hands regions to its ``FileRegionHandler``.
struct ChannelFileSender: FileBodySender {
    let channel: any Channel

    func send(_ file: NIOFileHandle, range: Range<Int64>, through writer: inout any ResponseBodyWriter) async throws {
        let handler: FileRegionHandler
        do {
            handler = try await channel.pipeline.handler(type: FileRegionHandler.self).get()
        } catch {
            try? file.close()
            throw error
        }
        handler.enqueue(
            FileRegion(fileHandle: file, readerIndex: Int(range.lowerBound), endIndex: Int(range.upperBound)))
        do {
            try await writer.write(ByteBuffer())
        } catch {
            handler.closeQueued()
            throw error
        }
    }
}

/// The request context of Cairn's responder: Hummingbird's basic context plus the connection, whose pipeline
/// sends files (see ``FileRegionHandler``).
struct CairnRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
