/// One group of the `reports` section.
public struct ReportGroup: Sendable, Hashable {
    public var name: String
    public var files: [String] = []
    public var baseDirectory: String?
    public var discardPaths = false
    /// `file-format`; `JUNITXML` by default.
    public var fileFormat = "JUNITXML"
}
