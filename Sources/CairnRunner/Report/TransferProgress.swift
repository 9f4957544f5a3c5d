import Synchronization

/// Counts one transfer of a phase's files — restoring (files and bytes downloaded) or storing (blobs and bytes
/// uploaded of those the store lacked) — and tells the console after every change, which decides what to show and
/// how often.
///
/// The stores report through ``current``, a task-local the build binds around a restore or a store, so that the
/// store protocol and every environment's restore path stay free of progress parameters; child tasks (the
/// concurrent downloads and uploads) inherit it.
final class TransferProgress: Sendable {
    /// Which way the files go.
    enum Direction: String, Sendable {
        /// Downloading a stored phase's files into the workspace.
        case restore
        /// Uploading the blobs of a phase that ran.
        case store
        /// Uploading artifacts as S3 objects.
        case upload
    }

    /// How far the transfer got.
    struct Counts: Sendable, Equatable {
        var files = 0
        var totalFiles = 0
        var bytes: Int64 = 0
        var totalBytes: Int64 = 0
    }

    /// What the console is told: the counts, whether the transfer ended, and how long it has run.
    typealias Report = @Sendable (_ counts: Counts, _ final: Bool, _ elapsed: Duration) -> Void

    /// The transfer the current task reports to, if any.
    @TaskLocal static var current: TransferProgress?

    let direction: Direction
    private struct State {
        var counts = Counts()
        var started: ContinuousClock.Instant?
        var finished = false
    }
    private let state = Mutex(State())
    private let report: Report

    init(direction: Direction, report: @escaping Report) {
        self.direction = direction
        self.report = report
    }

    /// The transfer starts: `files` files of `bytes` bytes in all are to go. Nothing is reported for an empty one.
    func begin(files: Int, bytes: Int64) {
        update { state in
            state.counts = Counts(totalFiles: files, totalBytes: bytes)
            state.started = .now
            state.finished = false
            return files > 0
        }
    }

    /// `count` more bytes of some file went.
    func transferred(bytes count: Int) {
        update { state in
            guard !state.finished else { return false }
            state.counts.bytes = min(state.counts.bytes + Int64(count), state.counts.totalBytes)
            return true
        }
    }

    /// One more file is complete.
    func completedFile() {
        update { state in
            guard !state.finished else { return false }
            state.counts.files = min(state.counts.files + 1, state.counts.totalFiles)
            return true
        }
    }

    /// The transfer ended (the counts say how far it got).
    func finish() {
        update { state in
            guard !state.finished else { return false }
            state.finished = true
            return true
        }
    }

    /// Changes the state and reports it, under the lock, so that reports arrive in the order of the changes.
    private func update(_ change: (inout State) -> Bool) {
        state.withLock { state in
            guard change(&state), let started = state.started,
                state.counts.totalFiles > 0
            else { return }
            report(state.counts, state.finished, .now - started)
        }
    }
}
