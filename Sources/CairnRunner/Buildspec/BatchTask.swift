/// One build of a batch: a `build-graph` or `build-list` entry, a matrix combination or a fan-out shard.
public struct BatchTask: Sendable, Hashable {
    /// Which of `parallelism` identical builds a fan-out task is.
    public struct Shard: Sendable, Hashable {
        /// 0-based.
        public var index: Int
        public var count: Int

        public init(index: Int, count: Int) {
            self.index = index
            self.count = count
        }
    }

    /// `identifier`: names the build in output, reports (`buildGroups[].identifier`) and artifact paths.
    public var identifier: String
    /// `buildspec`: the buildspec file for this build, relative to the source directory; nil for the batch's own.
    public var buildspec: String?
    /// `env: image`: the container image to build in; nil for the batch's (`--image`, or the host).
    public var image: String?
    /// `env: privileged-mode`; nil for the batch's.
    public var privilegedMode: Bool?
    /// `env: variables`: override the buildspec's variables of the same name and join its phase keys.
    public var variables: [Buildspec.NameValue] = []
    /// `env: compute-type`, `env: type` and `env: fleet`: recorded in the report, no local meaning.
    public var computeType: String?
    public var environmentType: String?
    public var fleet: String?
    /// `depend-on`: identifiers of tasks that must end first.
    public var dependsOn: [String] = []
    /// `ignore-failure`: the batch may succeed when this build fails, and its dependents still run.
    public var ignoreFailure = false
    /// For a `build-fanout` task: which shard it is.
    public var shard: Shard?

    public init(identifier: String) {
        self.identifier = identifier
    }
}
