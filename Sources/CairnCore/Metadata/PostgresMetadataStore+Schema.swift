import Foundation
import Logging
import PostgresNIO

extension PostgresMetadataStore {
    /// The schema, one migration per change, applied in order; never edit one that has shipped, add a new one.
    static let migrations: [(version: Int, name: String, sql: String)] = [
        (
            1, "buckets, objects, uploads, blobs, entries, tokens, lifecycle",
            """
            CREATE TABLE buckets (
                name text PRIMARY KEY,
                created_at float8 NOT NULL
            );
            CREATE TABLE objects (
                bucket text NOT NULL REFERENCES buckets(name),
                key bytea NOT NULL,
                size int8 NOT NULL,
                etag text NOT NULL,
                headers text NOT NULL,
                checksum_algorithm text,
                checksum_value text,
                part_count int8,
                created_at float8 NOT NULL,
                accessed_at float8 NOT NULL,
                PRIMARY KEY (bucket, key)
            );
            CREATE INDEX objects_accessed ON objects(accessed_at);
            CREATE INDEX objects_created ON objects(created_at);
            CREATE TABLE object_segments (
                bucket text NOT NULL,
                key bytea NOT NULL,
                seq int8 NOT NULL,
                digest text NOT NULL,
                size int8 NOT NULL,
                PRIMARY KEY (bucket, key, seq),
                FOREIGN KEY (bucket, key) REFERENCES objects(bucket, key) ON DELETE CASCADE
            );
            CREATE INDEX object_segments_digest ON object_segments(digest);
            CREATE TABLE uploads (
                upload_id text PRIMARY KEY,
                bucket text NOT NULL REFERENCES buckets(name),
                key bytea NOT NULL,
                headers text NOT NULL,
                checksum_algorithm text,
                created_at float8 NOT NULL
            );
            CREATE INDEX uploads_bucket_key ON uploads(bucket, key, created_at);
            CREATE INDEX uploads_created ON uploads(created_at);
            CREATE TABLE upload_parts (
                upload_id text NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE,
                part_number int8 NOT NULL,
                digest text NOT NULL,
                size int8 NOT NULL,
                etag text NOT NULL,
                checksum_algorithm text,
                checksum_value text,
                created_at float8 NOT NULL,
                PRIMARY KEY (upload_id, part_number)
            );
            CREATE INDEX upload_parts_digest ON upload_parts(digest);
            CREATE TABLE blobs (
                digest text PRIMARY KEY,
                size int8 NOT NULL,
                created_at float8 NOT NULL
            );
            CREATE INDEX blobs_created ON blobs(created_at);
            CREATE TABLE action_entries (
                namespace text NOT NULL,
                key text NOT NULL,
                value_digest text NOT NULL,
                value_size int8 NOT NULL,
                total_size int8 NOT NULL,
                attributes text NOT NULL,
                created_at float8 NOT NULL,
                accessed_at float8 NOT NULL,
                PRIMARY KEY (namespace, key)
            );
            CREATE INDEX action_entries_accessed ON action_entries(accessed_at);
            CREATE INDEX action_entries_created ON action_entries(created_at);
            CREATE TABLE action_entry_blobs (
                namespace text NOT NULL,
                key text NOT NULL,
                digest text NOT NULL,
                PRIMARY KEY (namespace, key, digest),
                FOREIGN KEY (namespace, key) REFERENCES action_entries(namespace, key) ON DELETE CASCADE
            );
            CREATE INDEX action_entry_blobs_digest ON action_entry_blobs(digest);
            CREATE TABLE cache_tokens (
                id text PRIMARY KEY,
                secret_sha256 text NOT NULL UNIQUE,
                namespace text NOT NULL,
                read_only boolean NOT NULL,
                created_at float8 NOT NULL
            );
            CREATE TABLE bucket_lifecycle (
                bucket text PRIMARY KEY REFERENCES buckets(name) ON DELETE CASCADE,
                rules text NOT NULL
            );
            """
        ),
        (
            2, "object versions, completed uploads, bucket configurations, small blobs",
            // As the embedded store's v7-v9: `objects` keeps each key's current version; `object_versions` the
            // noncurrent versions and delete markers (`ordinal` orders a key's versions, larger is newer;
            // `noncurrent_at` is NULL only for a delete marker that is its key's latest version). `small_blobs`
            // holds the bytes of blobs up to the small-blob limit, which live in PostgreSQL instead of the object
            // store (see DESIGN.md, "Several nodes").
            """
            ALTER TABLE buckets ADD COLUMN versioning text;
            ALTER TABLE objects ADD COLUMN version_id text NOT NULL DEFAULT 'null';
            CREATE TABLE object_versions (
                bucket text NOT NULL REFERENCES buckets(name),
                key bytea NOT NULL,
                version_id text NOT NULL,
                ordinal int8 NOT NULL,
                delete_marker boolean NOT NULL,
                size int8 NOT NULL,
                etag text NOT NULL,
                headers text NOT NULL,
                checksum_algorithm text,
                checksum_value text,
                part_count int8,
                created_at float8 NOT NULL,
                noncurrent_at float8,
                PRIMARY KEY (bucket, key, version_id)
            );
            CREATE UNIQUE INDEX object_versions_order ON object_versions(bucket, key, ordinal);
            CREATE INDEX object_versions_noncurrent ON object_versions(noncurrent_at);
            CREATE TABLE version_segments (
                bucket text NOT NULL,
                key bytea NOT NULL,
                version_id text NOT NULL,
                seq int8 NOT NULL,
                digest text NOT NULL,
                size int8 NOT NULL,
                PRIMARY KEY (bucket, key, version_id, seq),
                FOREIGN KEY (bucket, key, version_id) REFERENCES object_versions(bucket, key, version_id)
                    ON DELETE CASCADE
            );
            CREATE INDEX version_segments_digest ON version_segments(digest);
            CREATE TABLE completed_uploads (
                upload_id text PRIMARY KEY,
                bucket text NOT NULL,
                key bytea NOT NULL,
                etag text NOT NULL,
                completed_at float8 NOT NULL
            );
            CREATE INDEX completed_uploads_by_time ON completed_uploads(completed_at);
            CREATE TABLE bucket_configurations (
                bucket text NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
                kind text NOT NULL,
                document bytea NOT NULL,
                PRIMARY KEY (bucket, kind)
            );
            CREATE TABLE small_blobs (
                digest text PRIMARY KEY,
                content bytea NOT NULL
            )
            """
        ),
        (
            3, "token scopes, observations",
            // As the embedded store's v10-v11: what a token may be used for (comma-separated `TokenScope`s; older
            // tokens keep the build-cache routes), and the small documents the console keeps across restarts.
            """
            ALTER TABLE cache_tokens ADD COLUMN scopes text NOT NULL DEFAULT 'cache';
            CREATE TABLE observations (
                id bigserial PRIMARY KEY,
                kind text NOT NULL,
                recorded_at float8 NOT NULL,
                document bytea NOT NULL
            );
            CREATE INDEX observations_by_kind ON observations(kind, id)
            """
        ),
    ]

    /// The versions of every migration this build knows, in order.
    public static var migrationVersions: [Int] { migrations.map(\.version) }

    /// The advisory lock key that serialises migrations across nodes (`'cairn.migrate'` as a 64-bit number).
    static let migrationLock: Int64 = 0x6361_6972_6e2e_6d67

    /// Brings the schema up to date; returns the versions it applied (none when another node already did).
    ///
    /// Safe when several nodes start together: each takes a session advisory lock first, so one applies the
    /// migrations while the others wait, then find them recorded and apply nothing. Each migration commits with
    /// its row in `cairn_migrations`, so a node killed halfway leaves the schema at a version the next start
    /// continues from.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await Self.migrate(client: client.client, logger: logger)
    }

    /// ``migrate()`` on the database `url` names, with a connection of its own, before any store is opened (the
    /// server migrates so before it accepts requests).
    @discardableResult
    public static func migrate(url: String, logger: Logger) async throws -> [Int] {
        let client = PostgresClient(configuration: try PostgresURL(url).clientConfiguration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await migrate(client: client, logger: logger)
        }
    }

    static func migrate(client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await client.withConnection { connection in
            func execute(_ query: PostgresQuery) async throws -> [PostgresRow] {
                try await connection.query(query, logger: logger).collect()
            }
            _ = try await execute("SELECT pg_advisory_lock(\(Self.migrationLock))")
            do {
                let applied = try await applyMigrations(execute)
                _ = try await execute("SELECT pg_advisory_unlock(\(Self.migrationLock))")
                return applied
            } catch {
                _ = try? await execute("SELECT pg_advisory_unlock(\(Self.migrationLock))")
                throw error
            }
        }
    }

    private static func applyMigrations(
        _ execute: (PostgresQuery) async throws -> [PostgresRow]
    ) async throws -> [Int] {
        _ = try await execute(
            """
            CREATE TABLE IF NOT EXISTS cairn_migrations (
                version int8 PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """)
        let done = Set(try await execute("SELECT version FROM cairn_migrations").map { try $0.decode(Int.self) })
        if let newest = done.max(), newest > migrations.last!.version {
            throw PostgresMetadataError(
                "the database's schema is at version \(newest), newer than this cairn knows "
                    + "(\(migrations.last!.version)): upgrade this node to the version the others run")
        }
        var applied: [Int] = []
        for migration in migrations where !done.contains(migration.version) {
            _ = try await execute("BEGIN")
            do {
                // One statement per query: the extended protocol takes no more.
                for statement in migration.sql.split(separator: ";\n") {
                    _ = try await execute(PostgresQuery(unsafeSQL: String(statement)))
                }
                _ = try await execute(
                    "INSERT INTO cairn_migrations (version, name) VALUES (\(migration.version), \(migration.name))")
                _ = try await execute("COMMIT")
            } catch {
                _ = try? await execute("ROLLBACK")
                throw error
            }
            applied.append(migration.version)
        }
        return applied
    }
}
