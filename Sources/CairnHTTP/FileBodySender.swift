import HummingbirdCore
import NIOCore

/// Sends ranges of open files as the next bytes of a response body without copying them through the process
/// (`sendfile`). The server provides one for each request on a connection that can take it (plain HTTP/1.1; not
/// TLS, which must encrypt every byte in the process).
public protocol FileBodySender: Sendable {
    /// Sends `range` of `file` after everything `writer` has written so far. Takes ownership of `file`: it is closed
    /// once its bytes are sent, or once the connection fails.
    func send(_ file: NIOFileHandle, range: Range<Int64>, through writer: inout any ResponseBodyWriter) async throws
}
