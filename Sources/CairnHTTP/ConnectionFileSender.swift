/// The file sender of the connection whose request the current task answers, for handlers that are not given it
/// (the build-cache routes, which run on Hummingbird's basic request context). Read it while building a response,
/// not in the body closure: the body is written after the handler returns, outside the scope that set it.
public enum ConnectionFileSender {
    @TaskLocal public static var current: (any FileBodySender)?
}
