/// A container engine could not do what a build asked: one line that says what failed and, where there is one, the
/// fix.
public struct ContainerEngineError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it was, for callers that react to one kind (an unknown image, a missing engine).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        /// The engine named is not installed (or not one Cairn knows).
        public static let engineNotInstalled = Code(name: "engine not installed")
        /// The image is neither on this machine nor could it be pulled.
        public static let unknownImage = Code(name: "unknown image")
        /// The operation needs what this engine or user cannot do (rootless podman mounting a filesystem).
        public static let unsupported = Code(name: "unsupported")
        /// An engine command exited with a failure status.
        public static let commandFailed = Code(name: "command failed")

        public var description: String { name }
    }

    /// What kind of failure it was.
    public let code: Code
    /// The whole message: what failed, the engine's own words, and the fix where there is one.
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
