import CairnS3
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with an interim `100 Continue`, which Hummingbird does not do by itself — unless
/// the request is an S3 request that carries no credentials at all, which is refused at once instead.
///
/// S3 clients (the AWS CLI, the SDKs) and Gradle send the header on PUT and wait for the interim response before
/// sending the body. The header is left in place: some clients sign it. Inviting the body of a request that will
/// be refused wastes the upload, so such a request gets S3's 403 AccessDenied before its body, and the connection
/// closes (the body the client might still send is never read).
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    /// Set once a request was refused before its body: whatever else arrives on the connection is dropped.
    private var refused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        if case .head(let head) = unwrapInboundIn(data), head.headerFields[.expect]?.lowercased() == "100-continue" {
            guard !Self.isAnonymousS3Request(head) else {
                refuse(context: context)
                return
            }
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }

    /// An S3 request (not under `/_cairn/`, whose protocols answer in their own terms) with neither an
    /// `Authorization` header nor a presigned URL's signature: the S3 service would refuse it with AccessDenied.
    static func isAnonymousS3Request(_ head: HTTPRequest) -> Bool {
        guard head.headerFields[.authorization] == nil else { return false }
        let path = head.path ?? ""
        guard !path.hasPrefix("/_cairn") else { return false }
        guard let mark = path.firstIndex(of: "?") else { return true }
        let query = path[path.index(after: mark)...].split(separator: "&").map { $0.prefix { $0 != "=" } }
        return !query.contains { $0 == "X-Amz-Signature" || $0 == "Signature" }
    }

    private func refuse(context: ChannelHandlerContext) {
        refused = true
        let requestID = RequestID.next()
        let error = S3Error.accessDenied(
            "Anonymous access is not allowed; sign requests with AWS Signature Version 4")
        let body = ByteBuffer(string: error.xml(requestID: requestID))
        var headers: HTTPFields = [
            .contentType: "application/xml", .contentLength: String(body.readableBytes), .connection: "close",
        ]
        RequestID.stamp(&headers, requestID: requestID)
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .forbidden, headerFields: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
