import CairnTestSupport
import Foundation
import GRDB
import Glibc
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import CairnCore

/// Group commit: writes that arrive together share a transaction, one write's failure stays its own, and a write
/// returns once its own batch is durable, however busy the queue stays.
@Suite("Commit queue")
struct CommitQueueTests {
    private static func makeQueue() throws -> (DatabaseQueue, CommitQueue) {
        let database = try DatabaseQueue()
        try database.write { try $0.execute(sql: "CREATE TABLE t (name TEXT PRIMARY KEY NOT NULL)") }
        return (database, CommitQueue(writer: database))
    }

    private static func insert(_ name: String) -> CommitQueue.Work {
        { db in try db.execute(sql: "INSERT INTO t (name) VALUES (?)", arguments: [name]) }
    }

    @Test("Concurrent writes are committed; a failing one is rolled back alone and reports its own error")
    func failuresStayTheirOwn() async throws {
        let (database, queue) = try Self.makeQueue()
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for index in 0..<40 {
                group.addTask {
                    // Every fifth write inserts a name another write also inserts: the second one fails.
                    let name = index % 5 == 4 ? "w\(index - 1)" : "w\(index)"
                    do {
                        try await queue.submit(Self.insert(name))
                        return (index, true)
                    } catch {
                        return (index, false)
                    }
                }
            }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        let names = try await database.read { try String.fetchAll($0, sql: "SELECT name FROM t") }
        #expect(Set(names).count == names.count)
        #expect(names.count == 32)
        #expect(outcomes.values.filter { $0 }.count == 32)
        for index in stride(from: 3, to: 40, by: 5) {
            // Of each pair, exactly one succeeded.
            #expect(outcomes[index]! != outcomes[index + 1]!)
        }
    }

    @Test("A write returns once its own batch is durable, while other writes keep the queue busy")
    func firstWriterIsNotHeldByLaterBatches() async throws {
        let (database, queue) = try Self.makeQueue()
        let firstReturned = NIOLockedValueBox(false)
        let firstCommittedOnReturn = NIOLockedValueBox(false)
        let produced = NIOLockedValueBox(0)
        let limit = 1500
        let slowWork: CommitQueue.Work = { db in
            usleep(1000)
            try db.execute(sql: "INSERT OR IGNORE INTO t (name) VALUES ('slow')")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await queue.submit(Self.insert("first"))
                firstReturned.withLockedValue { $0 = true }
                // Durable means committed: the row is there for a reader once the write has returned.
                let committed = try await database.read {
                    try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM t WHERE name = 'first'")
                }
                firstCommittedOnReturn.withLockedValue { $0 = committed == 1 }
            }
            // A steady stream of writes, one every millisecond, each taking a millisecond inside the transaction:
            // the queue is never empty while it lasts.
            group.addTask {
                try await withThrowingTaskGroup(of: Void.self) { stream in
                    for _ in 0..<limit {
                        if firstReturned.withLockedValue({ $0 }) { break }
                        produced.withLockedValue { $0 += 1 }
                        stream.addTask { try await queue.submit(slowWork) }
                        try await Task.sleep(for: .milliseconds(1))
                    }
                    try await stream.waitForAll()
                }
            }
            try await group.waitForAll()
        }
        #expect(firstCommittedOnReturn.withLockedValue { $0 }, "the first write returned before its row was committed")
        // The first write came back while the stream was still running, not after the queue emptied.
        let streamed = produced.withLockedValue { $0 }
        #expect(streamed < limit / 2, "the first write returned only after \(streamed) later writes were queued")
        #expect(try await database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM t") } == 2)
    }
}

/// A server copies the write-ahead log into the database from a connection of its own, so commits carry only
/// their own fsync; the writer keeps a backstop.
@Suite("Write-ahead log checkpoints")
struct CheckpointTests {
    private static func withStore(
        backgroundCheckpoints: Bool, _ body: (SQLiteMetadataStore) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-wal-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteMetadataStore(dataDirectory: directory, backgroundCheckpoints: backgroundCheckpoints)
        try await store.createBucket("bucket")
        try await body(store)
    }

    private static func putObjects(_ count: Int, in store: SQLiteMetadataStore) async throws {
        let blobs = store.blobs
        for index in 0..<count {
            let writer = try blobs.makeWriter()
            try await writer.write(ByteBuffer(string: "object \(index)"))
            let digest = try await writer.commit()
            try await store.putObject(
                ObjectInfo(
                    bucket: "bucket", key: "k\(index)", size: 8, etag: "e", headers: ObjectHeaders(), checksum: nil,
                    partCount: nil, createdAt: Date(), segments: [BlobSegment(digest: digest, size: 8)]))
        }
    }

    @Test("With background checkpoints the writer only keeps a backstop, and checkpoint() copies the whole log")
    func backgroundCheckpointsCopyTheLog() async throws {
        try await Self.withStore(backgroundCheckpoints: true) { store in
            let backstop = try await store.pool.write { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") }
            #expect(backstop == SQLiteMetadataStore.backstopCheckpointPages)
            try await Self.putObjects(20, in: store)
            let first = try await store.checkpoint()
            #expect(first.walFrames > 0)
            #expect(first.copied == first.walFrames)
            // The objects read back, from the database file or the log.
            #expect(try await store.object(bucket: "bucket", key: "k19") != nil)
            try await Self.putObjects(5, in: store)
            let second = try await store.checkpoint()
            #expect(second.copied == second.walFrames)
        }
    }

    @Test("Without them the writer checkpoints at SQLite's default, and checkpoint() does nothing")
    func defaultStoreCheckpointsAtCommit() async throws {
        try await Self.withStore(backgroundCheckpoints: false) { store in
            #expect(try await store.pool.write { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") } == 1000)
            try await Self.putObjects(3, in: store)
            let result = try await store.checkpoint()
            #expect(result.walFrames == 0 && result.copied == 0)
        }
    }

    /// Holds SQLite's checkpoint lock on the store's write-ahead log index from another process, as a checkpoint
    /// running there (`cairn gc`, or the writer's backstop) does.
    static let checkpointLockHolder = """
        import fcntl, os, sys
        fd = os.open(sys.argv[1], os.O_RDWR)
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 121)  # WAL_CKPT_LOCK: byte 120 + 1 of the -shm file
        open(sys.argv[2], "w").close()
        sys.stdin.read()
        """

    @Test(
        "A checkpoint while another process is checkpointing copies nothing instead of failing 'database is locked'",
        .requires("python3"))
    func checkpointWhileAnotherRuns() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-wal-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let store = try SQLiteMetadataStore(dataDirectory: directory.path, backgroundCheckpoints: true)
            try await store.createBucket("bucket")
            try await Self.putObjects(3, in: store)
            let marker = directory.appendingPathComponent("lock-held").path
            var pipe: [Int32] = [0, 0]
            #expect(Glibc.pipe(&pipe) == 0)
            let holder = try SpawnedProcess(
                executable: "/usr/bin/env",
                arguments: [
                    "python3", "-c", Self.checkpointLockHolder,
                    directory.appendingPathComponent("metadata.sqlite-shm").path, marker,
                ],
                standardInput: .descriptor(pipe[0]))
            close(pipe[0])
            let deadline = Date().addingTimeInterval(30)
            while !FileManager.default.fileExists(atPath: marker), holder.isRunning, Date() < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(FileManager.default.fileExists(atPath: marker), "the lock holder did not take the lock")
            let locked = try await store.checkpoint()
            #expect(locked.walFrames == 0 && locked.copied == 0)
            close(pipe[1])
            _ = await holder.waitForExit()
            let after = try await store.checkpoint()
            #expect(after.walFrames > 0 && after.copied == after.walFrames)
        }
    }
}
