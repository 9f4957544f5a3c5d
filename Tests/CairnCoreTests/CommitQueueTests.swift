import Foundation
import GRDB
import NIOConcurrencyHelpers
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
        #expect(firstReturned.withLockedValue { $0 })
        // The first write came back while the stream was still running, not after the queue emptied.
        #expect(produced.withLockedValue { $0 } < limit / 2)
        #expect(try await database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM t") } == 2)
    }
}
