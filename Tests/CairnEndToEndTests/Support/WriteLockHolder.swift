import CairnCore
import CairnTestSupport
import Foundation

/// Holds SQLite's write lock on a database from a `python3` process, taken as soon as a query on the database turns
/// true.
///
/// The process is started and connected before the work it interrupts (``init(database:environment:takeWhen:)``
/// returns once it is ready), and it then retries the lock without sleeping, so that it takes the lock between two
/// of the other writer's transactions instead of after the other writer has finished.
final class WriteLockHolder {
    private let process: SpawnedProcess
    private let input = Pipe()
    private let output = Pipe()
    private let database: String

    /// Returns once the process is connected and watching the condition.
    init(database: String, environment: [String: String], takeWhen condition: String) throws {
        self.database = database
        let script = """
            import sqlite3, sys, time
            database = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
            print("ready", flush=True)
            deadline = time.time() + 60
            while True:
                if time.time() > deadline:
                    sys.exit("the condition did not hold within 60 s")
                try:
                    if database.execute(sys.argv[2]).fetchone()[0]:
                        database.execute("BEGIN IMMEDIATE")
                        break
                except sqlite3.OperationalError:
                    pass  # the other writer holds the lock: try again at once
            print("locked", flush=True)
            sys.stdin.read()
            database.execute("ROLLBACK")
            """
        process = try SpawnedProcess(
            executable: "/usr/bin/env", arguments: ["python3", "-c", script, database, condition],
            environment: environment, standardInput: .descriptor(input.fileHandleForReading.fileDescriptor),
            standardOutput: .descriptor(output.fileHandleForWriting.fileDescriptor)
        )
        // python3 holds the other ends now: with ours closed, it sees the end of its input on ``release()``.
        try input.fileHandleForReading.close()
        try output.fileHandleForWriting.close()
        try expect("ready\n")
    }

    /// Waits until the lock is held; throws when the condition did not hold within 60 s.
    func waitUntilLocked() throws {
        try expect("locked\n")
    }

    private func expect(_ line: String) throws {
        let read = String(decoding: output.fileHandleForReading.readData(ofLength: line.utf8.count), as: UTF8.self)
        guard read == line else {
            process.waitUntilExit()
            throw CommandFailure(description: "could not take the write lock of \(database) (\(read.debugDescription))")
        }
    }

    /// Lets the lock go and waits for the process to end.
    func release() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { release() }
    }
}
