import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts the builds of a batch as their dependencies allow, at most `jobs` at once, in the batch's order.
///
/// A build starts when every build it depends on has succeeded (or failed with `ignore-failure`); a build one of
/// whose dependencies failed otherwise never starts, nor do the builds that depend on it. With `fast-fail`, the first
/// build that fails the batch stops the others through the shared ``BuildInterruption`` (the one Ctrl-C uses too),
/// and nothing more starts.
actor BatchScheduler {
    let tasks: [BatchTask]
    let jobs: Int
    let fastFail: Bool
    let interruption: BuildInterruption
    private var outcomes: [String: BatchBuildResult] = [:]
    private var started = Set<String>()
    /// Why nothing more starts, once something stopped the batch.
    private var stopReason: String?
    /// The signal that stopped the batch from outside (Ctrl-C), as opposed to `fast-fail`.
    private(set) var outsideSignal: Int32?

    init(tasks: [BatchTask], jobs: Int, fastFail: Bool, interruption: BuildInterruption) {
        self.tasks = tasks
        self.jobs = max(1, jobs)
        self.fastFail = fastFail
        self.interruption = interruption
    }

    /// Runs every build that may run with `build`; returns every task's outcome in the batch's order.
    func run(_ build: @escaping @Sendable (BatchTask) async -> BatchBuildResult) async -> [BatchBuildResult] {
        await withTaskGroup(of: BatchBuildResult.self) { group in
            var running = 0
            while true {
                settleBlockedTasks()
                for task in tasks where running < jobs && isReady(task) {
                    started.insert(task.identifier)
                    running += 1
                    group.addTask { await build(task) }
                }
                guard let outcome = await group.next() else { break }
                running -= 1
                record(outcome)
            }
        }
        noticeOutsideSignal()
        return tasks.map { outcomes[$0.identifier]! }
    }

    private func record(_ outcome: BatchBuildResult) {
        outcomes[outcome.task.identifier] = outcome
        noticeOutsideSignal()
        if fastFail, outcome.failsBatch, stopReason == nil {
            stopReason = "fast-fail: \(outcome.task.identifier) failed"
            interruption.interrupt(signal: SIGTERM)
        }
    }

    private func noticeOutsideSignal() {
        if let signal = interruption.interruptingSignal, stopReason == nil {
            stopReason = "the batch was stopped (signal \(signal))"
            outsideSignal = signal
        }
    }

    private func isReady(_ task: BatchTask) -> Bool {
        guard stopReason == nil, outcomes[task.identifier] == nil, !started.contains(task.identifier) else {
            return false
        }
        return task.dependsOn.allSatisfy { outcomes[$0]?.releasesDependents == true }
    }

    /// Marks the tasks that can no longer start: one of their dependencies ended without releasing them, or the
    /// batch stopped.
    private func settleBlockedTasks() {
        var changed = true
        while changed {
            changed = false
            for task in tasks where outcomes[task.identifier] == nil && !started.contains(task.identifier) {
                var reason = stopReason
                if reason == nil,
                    let blocker = task.dependsOn.first(where: { outcomes[$0].map { !$0.releasesDependents } ?? false })
                {
                    reason = "\(blocker) did not succeed"
                }
                if let reason {
                    outcomes[task.identifier] = BatchBuildResult(task: task, status: .notRun, reason: reason)
                    changed = true
                }
            }
        }
    }
}
