import CairnCore
import CairnS3
import HTTPTypes
import Hummingbird

/// The server's single responder: `/_cairn/…` goes to Cairn's own routes, everything else is S3.
///
/// Every response carries a request id (`x-amz-request-id`, `x-amz-id-2`), as S3's do.
struct CairnResponder<Routes: HTTPResponder>: HTTPResponder where Routes.Context == BasicRequestContext {
    typealias Context = CairnRequestContext

    let s3: S3Service
    let routes: Routes
    /// Whether connections carry a ``FileRegionHandler`` (plain HTTP, not TLS), so S3 GETs may send blob files.
    let sendsFiles: Bool

    static var reservedPrefix: String { "/_cairn/" }

    func respond(to request: Request, context: Context) async throws -> Response {
        let requestID = SecureRandom.bytes(8).hexString.uppercased()
        var response: Response
        let fileSender: (any FileBodySender)? = sendsFiles ? ChannelFileSender(channel: context.channel) : nil
        if request.uri.path.hasPrefix(Self.reservedPrefix) || request.uri.path == "/_cairn" {
            do {
                let basic = BasicRequestContext(source: .init(channel: context.channel, logger: context.logger))
                response = try await ConnectionFileSender.$current.withValue(fileSender) {
                    try await routes.respond(to: request, context: basic)
                }
            } catch let error as any HTTPResponseError {
                response = try error.response(from: request, context: context)
            }
        } else {
            response = await s3.respond(to: request, requestID: requestID, fileSender: fileSender)
        }
        response.headers[HTTPField.Name("x-amz-request-id")!] = requestID
        response.headers[HTTPField.Name("x-amz-id-2")!] = requestID
        response.headers[.server] = "Cairn"
        return response
    }
}
