import GRDB

extension SQLiteMetadataStore {
    /// The schema, one migration per change; never edit a migration that has shipped, add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: buckets, objects, uploads, blobs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE buckets (
                        name TEXT PRIMARY KEY NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE objects (
                        bucket TEXT NOT NULL REFERENCES buckets(name),
                        key BLOB NOT NULL,
                        size INTEGER NOT NULL,
                        etag TEXT NOT NULL,
                        headers TEXT NOT NULL,
                        checksum_algorithm TEXT,
                        checksum_value TEXT,
                        part_count INTEGER,
                        created_at REAL NOT NULL,
                        accessed_at REAL NOT NULL,
                        PRIMARY KEY (bucket, key)
                    );
                    CREATE TABLE object_segments (
                        bucket TEXT NOT NULL,
                        key BLOB NOT NULL,
                        seq INTEGER NOT NULL,
                        digest TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        PRIMARY KEY (bucket, key, seq),
                        FOREIGN KEY (bucket, key) REFERENCES objects(bucket, key) ON DELETE CASCADE
                    );
                    CREATE INDEX object_segments_digest ON object_segments(digest);
                    CREATE TABLE uploads (
                        upload_id TEXT PRIMARY KEY NOT NULL,
                        bucket TEXT NOT NULL REFERENCES buckets(name),
                        key BLOB NOT NULL,
                        headers TEXT NOT NULL,
                        checksum_algorithm TEXT,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX uploads_bucket_key ON uploads(bucket, key, created_at);
                    CREATE TABLE upload_parts (
                        upload_id TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE,
                        part_number INTEGER NOT NULL,
                        digest TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        etag TEXT NOT NULL,
                        checksum_algorithm TEXT,
                        checksum_value TEXT,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (upload_id, part_number)
                    );
                    CREATE INDEX upload_parts_digest ON upload_parts(digest);
                    CREATE TABLE blobs (
                        digest TEXT PRIMARY KEY NOT NULL,
                        size INTEGER NOT NULL,
                        created_at REAL NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v2: action entries") { db in
            try db.execute(
                sql: """
                    CREATE TABLE action_entries (
                        namespace TEXT NOT NULL,
                        key TEXT NOT NULL,
                        value_digest TEXT NOT NULL,
                        value_size INTEGER NOT NULL,
                        total_size INTEGER NOT NULL,
                        attributes TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        accessed_at REAL NOT NULL,
                        PRIMARY KEY (namespace, key)
                    );
                    CREATE TABLE action_entry_blobs (
                        namespace TEXT NOT NULL,
                        key TEXT NOT NULL,
                        digest TEXT NOT NULL,
                        PRIMARY KEY (namespace, key, digest),
                        FOREIGN KEY (namespace, key) REFERENCES action_entries(namespace, key) ON DELETE CASCADE
                    );
                    CREATE INDEX action_entry_blobs_digest ON action_entry_blobs(digest);
                    """
            )
        }
        migrator.registerMigration("v3: cache tokens") { db in
            try db.execute(
                sql: """
                    CREATE TABLE cache_tokens (
                        id TEXT PRIMARY KEY NOT NULL,
                        secret_sha256 TEXT NOT NULL UNIQUE,
                        namespace TEXT NOT NULL,
                        read_only INTEGER NOT NULL,
                        created_at REAL NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v4: retention") { db in
            try db.execute(
                sql: """
                    CREATE INDEX objects_accessed ON objects(accessed_at);
                    CREATE INDEX objects_created ON objects(created_at);
                    CREATE INDEX action_entries_accessed ON action_entries(accessed_at);
                    CREATE INDEX action_entries_created ON action_entries(created_at);
                    CREATE INDEX uploads_created ON uploads(created_at);
                    CREATE INDEX blobs_created ON blobs(created_at);
                    CREATE TABLE bucket_lifecycle (
                        bucket TEXT PRIMARY KEY NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
                        rules TEXT NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v5: blob journal") { db in
            try db.execute(
                sql: """
                    CREATE TABLE blob_journal (
                        digest TEXT PRIMARY KEY NOT NULL,
                        content BLOB NOT NULL
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration(smallBlobsMigration) { db in
            // A rowid table with a separate index on the digest, not a WITHOUT ROWID table keyed by it: there each
            // entry is the whole row, and SQLite reads every overflowing entry it compares against (a blob of more
            // than about 1 KiB) whole, so each lookup read several blobs.
            try db.execute(
                sql: """
                    CREATE TABLE small_blobs (
                        id INTEGER PRIMARY KEY,
                        digest TEXT NOT NULL UNIQUE,
                        content BLOB NOT NULL
                    );
                    INSERT INTO small_blobs (digest, content) SELECT digest, content FROM blob_journal;
                    DROP TABLE blob_journal;
                    """
            )
        }
        migrator.registerMigration("v7: completed uploads") { db in
            // What a CompleteMultipartUpload made, kept a while so that a client retrying a Complete whose answer it
            // never saw gets the same answer rather than NoSuchUpload.
            try db.execute(
                sql: """
                    CREATE TABLE completed_uploads (
                        upload_id TEXT PRIMARY KEY NOT NULL,
                        bucket TEXT NOT NULL,
                        key BLOB NOT NULL,
                        etag TEXT NOT NULL,
                        completed_at REAL NOT NULL
                    );
                    CREATE INDEX completed_uploads_by_time ON completed_uploads (completed_at);
                    """
            )
        }
        migrator.registerMigration("v8: bucket configurations") { db in
            // Small per-bucket documents that only the S3 front end reads (CORS rules), as JSON by kind.
            try db.execute(
                sql: """
                    CREATE TABLE bucket_configurations (
                        bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
                        kind TEXT NOT NULL,
                        document BLOB NOT NULL,
                        PRIMARY KEY (bucket, kind)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v9: object versions") { db in
            // The `objects` table keeps each key's current version, so reads and listings of current objects are
            // unchanged; `object_versions` keeps the rest: noncurrent versions and delete markers, `ordinal` ordering
            // a key's versions (larger is newer). `noncurrent_at` is when a version stopped being the latest; NULL
            // only for a delete marker that is its key's latest version.
            try db.execute(
                sql: """
                    ALTER TABLE buckets ADD COLUMN versioning TEXT;
                    ALTER TABLE objects ADD COLUMN version_id TEXT NOT NULL DEFAULT 'null';
                    CREATE TABLE object_versions (
                        bucket TEXT NOT NULL REFERENCES buckets(name),
                        key BLOB NOT NULL,
                        version_id TEXT NOT NULL,
                        ordinal INTEGER NOT NULL,
                        delete_marker INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        etag TEXT NOT NULL,
                        headers TEXT NOT NULL,
                        checksum_algorithm TEXT,
                        checksum_value TEXT,
                        part_count INTEGER,
                        created_at REAL NOT NULL,
                        noncurrent_at REAL,
                        PRIMARY KEY (bucket, key, version_id)
                    );
                    CREATE UNIQUE INDEX object_versions_order ON object_versions(bucket, key, ordinal);
                    CREATE INDEX object_versions_noncurrent ON object_versions(noncurrent_at);
                    CREATE TABLE version_segments (
                        bucket TEXT NOT NULL,
                        key BLOB NOT NULL,
                        version_id TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        digest TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        PRIMARY KEY (bucket, key, version_id, seq),
                        FOREIGN KEY (bucket, key, version_id) REFERENCES object_versions(bucket, key, version_id)
                            ON DELETE CASCADE
                    );
                    CREATE INDEX version_segments_digest ON version_segments(digest);
                    """
            )
        }
        migrator.registerMigration("v10: token scopes") { db in
            // What a token may be used for, comma-separated (see `TokenScope`); tokens made before scopes existed
            // keep what they could do: the build-cache routes.
            try db.execute(sql: "ALTER TABLE cache_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'cache'")
        }
        migrator.registerMigration("v11: observations") { db in
            // Small JSON documents the server keeps across restarts for its console (hit-rate samples, the builds
            // `cairn build` reported), by kind; each kind is trimmed to its newest rows as it is appended to.
            try db.execute(
                sql: """
                    CREATE TABLE observations (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL,
                        recorded_at REAL NOT NULL,
                        document BLOB NOT NULL
                    );
                    CREATE INDEX observations_by_kind ON observations(kind, id);
                    """
            )
        }
        return migrator
    }

    /// The migration after which small blobs live in `small_blobs` for good instead of being flushed to files.
    static let smallBlobsMigration = "v6: small blobs live in the database"
}
