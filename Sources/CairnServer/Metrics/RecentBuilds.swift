import CairnCore

/// The last builds `cairn build` reported to this server, newest last, for the console; bounded.
public actor RecentBuilds {
    private var reports: [BuildOutcomeReport] = []
    let capacity: Int

    public init(capacity: Int = 200) {
        self.capacity = capacity
    }

    func add(_ report: BuildOutcomeReport) {
        reports.append(report)
        if reports.count > capacity { reports.removeFirst(reports.count - capacity) }
    }

    /// The reports kept, newest last.
    public var all: [BuildOutcomeReport] { reports }
}
