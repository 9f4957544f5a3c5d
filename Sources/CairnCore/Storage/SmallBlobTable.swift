import Foundation
import GRDB
import GRDBSQLite
import NIOConcurrencyHelpers
import NIOCore

/// Where a server keeps blobs of at most ``BlobJournal/largestBlob`` bytes: the `small_blobs` table of the metadata
/// database, not files.
///
/// A small blob's bytes are written in the same transaction as the metadata that first names it, so the one
/// group-committed WAL fsync that makes an object durable makes its content durable too. Creating a file and, often,
/// its fan-out folder for every small blob cost more CPU than the rest of a small upload: on ext4 most of it is the
/// kernel allocating inodes. A blob may have a file as well as a row (it was uploaded as a file while the journal
/// was full); both hold the same bytes, and retention removes both.
///
/// ``FileBlobStore`` reads look in memory first, then for a file and here (a batch read of small blobs here first), in
/// one thread-pool job. The table is only searched once a metadata store has attached its database
/// (``attach(_:)``): a blob store on its own has no small blobs.
///
/// Reads here block their thread and use SQLite connections of their own, each used by one thread at a time and
/// kept for the next read, not the metadata store's pool: a GRDB read hands its work to a dispatch queue and waits
/// for it, and those thread switches cost a small GET more than the rest of its read.
public final class SmallBlobTable: Sendable {
    private struct State {
        var path: String?
        /// Readers not in use.
        var idle: [TableReader] = []
        /// Bumped by ``attach(_:)``: a reader of an earlier database is closed, not kept.
        var generation = 0
    }

    private let state = NIOLockedValueBox(State())

    init() {}

    deinit {
        for reader in state.withLockedValue({ $0.idle }) { reader.close() }
    }

    /// Lets reads find the blobs of the `small_blobs` table of the database at `path`.
    func attach(_ path: String) {
        let previous = state.withLockedValue { state in
            defer {
                state.path = path
                state.idle = []
                state.generation += 1
            }
            return state.idle
        }
        for reader in previous { reader.close() }
    }

    /// The bytes of those of `digests` the table holds. Blocks: ``FileBlobStore`` calls it in the thread-pool job that
    /// looks for the blobs' files.
    func contents(_ digests: some Collection<BlobDigest>) throws -> [BlobDigest: ByteBuffer] {
        try lookUp(digests) { try $0.content($1) }
    }

    /// The bytes of one blob, or nil when the table does not hold it. Blocks, like ``contents(_:)``.
    func content(_ digest: BlobDigest) throws -> ByteBuffer? {
        try contents(CollectionOfOne(digest))[digest]
    }

    /// The sizes of those of `digests` the table holds. Blocks, like ``contents(_:)``.
    func sizes(_ digests: some Collection<BlobDigest>) throws -> [BlobDigest: Int64] {
        try lookUp(digests) { try $0.size($1) }
    }

    /// What `value` finds for each of `digests` the table holds, all with one reader.
    private func lookUp<Value>(
        _ digests: some Collection<BlobDigest>, _ value: (TableReader, BlobDigest) throws -> Value?
    ) throws -> [BlobDigest: Value] {
        guard !digests.isEmpty else { return [:] }
        return try withReader { reader in
            var found: [BlobDigest: Value] = [:]
            for digest in digests {
                if let item = try value(reader, digest) { found[digest] = item }
            }
            return found
        } ?? [:]
    }

    /// Runs `body` with an idle reader, or a new one; nil when no database is attached.
    private func withReader<T>(_ body: (TableReader) throws -> T) throws -> T? {
        let (path, generation, idle) = state.withLockedValue { state in
            (state.path, state.generation, state.idle.popLast())
        }
        guard let path else { return nil }
        let reader = try idle ?? TableReader(path: path)
        defer {
            let kept = state.withLockedValue { state in
                guard state.generation == generation else { return false }
                state.idle.append(reader)
                return true
            }
            if !kept { reader.close() }
        }
        return try body(reader)
    }

    /// Inside a transaction of the metadata database: whether the table holds the blob.
    static func contains(_ digest: BlobDigest, db: Database) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM small_blobs WHERE digest = ?)"),
            arguments: [digest.hex]) ?? false
    }
}

/// A SQLite connection to the metadata database that only reads, with its two lookups prepared. Used by one thread
/// at a time (``SmallBlobTable`` hands it out); each lookup is one statement, so it reads the latest commit. It is
/// opened read-write, not read-only: a read-only connection cannot open a WAL database whose `-shm` file is gone.
private final class TableReader: @unchecked Sendable {
    private let database: OpaquePointer
    private let contentStatement: OpaquePointer
    private let sizeStatement: OpaquePointer
    private let path: String

    init(path: String) throws {
        self.path = path
        var database: OpaquePointer?
        let opened = sqlite3_open_v2(path, &database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        guard opened == SQLITE_OK, let database else {
            let error = Self.error("open", path: path, database: database, code: opened)
            sqlite3_close_v2(database)
            throw error
        }
        // A reader waits only while the writer recovers or resets the log; as long as the metadata store waits.
        sqlite3_busy_timeout(database, 30_000)
        func prepare(_ sql: String) throws -> OpaquePointer {
            var statement: OpaquePointer?
            let code = sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
            guard code == SQLITE_OK, let statement else {
                throw Self.error("prepare", path: path, database: database, code: code)
            }
            return statement
        }
        do {
            contentStatement = try prepare("SELECT content FROM small_blobs WHERE digest = ?")
            // `length` of a BLOB reads its size from the record header, not its bytes.
            sizeStatement = try prepare("SELECT length(content) FROM small_blobs WHERE digest = ?")
        } catch {
            sqlite3_close_v2(database)
            throw error
        }
        self.database = database
    }

    func close() {
        sqlite3_finalize(contentStatement)
        sqlite3_finalize(sizeStatement)
        sqlite3_close_v2(database)
    }

    func content(_ digest: BlobDigest) throws -> ByteBuffer? {
        try lookUp(contentStatement, digest) { statement in
            let count = Int(sqlite3_column_bytes(statement, 0))
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            if count > 0, let bytes = sqlite3_column_blob(statement, 0) {
                buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: count))
            }
            return buffer
        }
    }

    func size(_ digest: BlobDigest) throws -> Int64? {
        try lookUp(sizeStatement, digest) { sqlite3_column_int64($0, 0) }
    }

    /// Steps `statement` with `digest` bound: `row` of its one row, or nil when there is none.
    private func lookUp<T>(_ statement: OpaquePointer, _ digest: BlobDigest, row: (OpaquePointer) -> T) throws -> T? {
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        let bound = digest.hex.withCString { sqlite3_bind_text(statement, 1, $0, -1, Self.transient) }
        guard bound == SQLITE_OK else { throw Self.error("bind", path: path, database: database, code: bound) }
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return row(statement)
        case SQLITE_DONE: return nil
        case let code: throw Self.error("read", path: path, database: database, code: code)
        }
    }

    /// Tells SQLite to copy the bound text before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private static func error(_ operation: String, path: String, database: OpaquePointer?, code: Int32)
        -> BlobStoreError
    {
        let message = database.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "error \(code)"
        return BlobStoreError(code: .io, message: "small blob table: \(operation) \(path): \(message)")
    }
}
