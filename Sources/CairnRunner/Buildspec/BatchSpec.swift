/// The buildspec's `batch` section: the builds `cairn build --batch` runs, already expanded.
///
/// A `build-matrix` becomes one task per combination and a `build-fanout` one task per shard, so everything after
/// parsing sees one list of tasks. Dependencies are checked when the section is read: every `depend-on` names a task
/// and there is no cycle.
public struct BatchSpec: Sendable, Hashable {
    /// Which of CodeBuild's batch types the section declares.
    public enum Form: String, Sendable, Hashable, CaseIterable {
        case graph = "build-graph"
        case list = "build-list"
        case matrix = "build-matrix"
        case fanout = "build-fanout"
    }

    /// `batch: fast-fail`: stop the running builds when one fails.
    public var fastFail = false
    public var form: Form
    /// The builds, in the order the buildspec gives them (a matrix: its combinations in order).
    public var tasks: [BatchTask]
    /// What keys that only mean something inside AWS mean here (printed before the batch starts).
    public var localNotes: [String] = []

    /// The task with this identifier.
    public func task(_ identifier: String) -> BatchTask? { tasks.first { $0.identifier == identifier } }
}
