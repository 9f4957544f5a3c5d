import CairnTestSupport
import Foundation

/// Holds SQLite's write lock on a database from a `python3` process, taken once a query on the database turns true.
final class WriteLockHolder {
    private let process = Process()
    private let input = Pipe()

    /// Returns once the lock is held; throws when the condition did not hold within 60 s.
    init(database: String, environment: [String: String], takeWhen condition: String) throws {
        let script = """
            import sqlite3, sys, time
            database = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
            deadline = time.time() + 60
            while not database.execute(sys.argv[2]).fetchone()[0]:
                if time.time() > deadline:
                    sys.exit("the condition did not hold within 60 s")
                time.sleep(0.001)
            database.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            sys.stdin.read()
            database.execute("ROLLBACK")
            """
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, database, condition]
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.readData(ofLength: 7), as: UTF8.self)
        guard line == "locked\n" else {
            process.waitUntilExit()
            throw CommandFailure(description: "could not take the write lock of \(database)")
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
