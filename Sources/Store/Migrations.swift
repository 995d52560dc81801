import GRDB

/// The store's schema, as an ordered list of named migrations. A migration is never edited
/// once released; a change is a new migration.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-patients") { db in
            // One row per patient; the whole record in `record` (RecordCodec), plus the columns
            // that listing and filtering need without decoding it.
            try db.execute(sql: """
                CREATE TABLE patient (
                    id          TEXT PRIMARY KEY NOT NULL,
                    name        TEXT,
                    sex         TEXT NOT NULL,
                    birth_date  TEXT NOT NULL,
                    deceased_at TEXT,
                    origin      TEXT NOT NULL CHECK (origin IN ('synthetic', 'imported')),
                    source      TEXT,
                    visit_count INTEGER NOT NULL,
                    first_visit TEXT,
                    last_visit  TEXT,
                    age         INTEGER,
                    conditions  TEXT NOT NULL,
                    updated_at  TEXT NOT NULL,
                    record      BLOB NOT NULL
                );
                CREATE INDEX patient_origin ON patient(origin);
                -- The demo cohort's generation settings (one row at most).
                CREATE TABLE cohort (
                    id           INTEGER PRIMARY KEY CHECK (id = 1),
                    seed         INTEGER NOT NULL,
                    size         INTEGER NOT NULL,
                    generator    TEXT NOT NULL,
                    generated_at TEXT NOT NULL
                );
                -- What the simulator knows of each synthetic patient and the record does not show:
                -- latent traits, the utility of every treatment at the index visit, and the label.
                CREATE TABLE cohort_truth (
                    patient_id TEXT PRIMARY KEY NOT NULL REFERENCES patient(id) ON DELETE CASCADE,
                    label      TEXT NOT NULL,
                    traits     BLOB NOT NULL,
                    utilities  BLOB NOT NULL
                );
                """)
        }
        m.registerMigration("v2-visit-labels") { db in
            // The best option at every visit (one byte per visit, index into the pack's
            // treatments), so that training can learn from every decision point of a history.
            try db.execute(sql: "ALTER TABLE cohort_truth ADD COLUMN visit_labels BLOB")
        }
        m.registerMigration("v3-decisions-audit") { db in
            try db.execute(sql: """
                -- Clinicians' decisions: the whole record as canonical JSON in `body`, plus the
                -- columns that listing needs. Written in the same transaction as its audit entry,
                -- which holds the body's SHA-256.
                CREATE TABLE decision (
                    id           TEXT PRIMARY KEY NOT NULL,
                    recorded_at  TEXT NOT NULL,
                    clinician    TEXT NOT NULL,
                    patient_id   TEXT NOT NULL,
                    outcome      TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
                    recommended  TEXT NOT NULL,
                    chosen       TEXT NOT NULL,
                    reward       REAL NOT NULL,
                    model_sha256 TEXT NOT NULL,
                    audit_seq    INTEGER NOT NULL UNIQUE,
                    body         TEXT NOT NULL
                );
                CREATE INDEX decision_patient ON decision(patient_id, recorded_at);
                -- The audit log: an append-only hash chain. `content` is the entry's canonical
                -- JSON; content_hash = SHA-256(content); hash = SHA-256(prev_hash ‖ content_hash)
                -- over the raw 32-byte digests. The other columns copy fields of `content` for
                -- filtering, and `audit verify` checks that they still agree with it.
                CREATE TABLE audit (
                    seq          INTEGER PRIMARY KEY NOT NULL,
                    recorded_at  TEXT NOT NULL,
                    event        TEXT NOT NULL,
                    clinician    TEXT,
                    patient_id   TEXT,
                    content      TEXT NOT NULL,
                    content_hash TEXT NOT NULL,
                    prev_hash    TEXT NOT NULL,
                    hash         TEXT NOT NULL
                );
                CREATE INDEX audit_patient ON audit(patient_id);
                CREATE INDEX audit_recorded ON audit(recorded_at);
                -- The chain's head, moved in the same transaction as every append: catches a
                -- deleted last entry. `mac` is HMAC-SHA256 of (seq, hash) under the site key.
                CREATE TABLE audit_head (
                    id   INTEGER PRIMARY KEY CHECK (id = 1),
                    seq  INTEGER NOT NULL,
                    hash TEXT NOT NULL,
                    mac  TEXT NOT NULL
                );
                """)
        }
        m.registerMigration("v4-model-versions") { db in
            try db.execute(sql: """
                -- Model versions learned from decisions, with their lineage. At most one is
                -- active; none active means the knowledge pack's default model.
                CREATE TABLE model_version (
                    version       INTEGER PRIMARY KEY AUTOINCREMENT,
                    sha256        TEXT NOT NULL,
                    parent_sha256 TEXT NOT NULL,
                    created_at    TEXT NOT NULL,
                    lineage       TEXT NOT NULL,
                    file          BLOB NOT NULL,
                    active        INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
                );
                CREATE UNIQUE INDEX model_version_one_active ON model_version(active) WHERE active = 1;
                """)
        }
        m.registerMigration("v5-audit-merkle") { db in
            try db.execute(sql: """
                -- The audit log's Merkle tree (RFC 9162): every complete node, leaves included,
                -- at its post-order position (see AuditTree), so proofs need no rehashing.
                CREATE TABLE audit_tree (
                    pos  INTEGER PRIMARY KEY NOT NULL,
                    hash BLOB NOT NULL
                );
                -- Signed checkpoints: the tree's size and root at a moment, signed with the
                -- site's Ed25519 key (written at the end of every session and every export).
                CREATE TABLE audit_checkpoint (
                    id        INTEGER PRIMARY KEY AUTOINCREMENT,
                    size      INTEGER NOT NULL,
                    root      TEXT NOT NULL,
                    time      TEXT NOT NULL,
                    log       TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    reason    TEXT NOT NULL
                );
                CREATE INDEX audit_checkpoint_size ON audit_checkpoint(size);
                """)
            // An older store's entries get their tree now; its chain and head MAC stay as they were.
            try AuditTree.rebuild(db)
        }
        m.registerMigration("v6-visit-utilities") { db in
            // The utility of every option at every visit (float32, visit-major, the simulator's
            // order), so that training's soft targets reach every decision point, not only the
            // index visit. NULL for cohorts generated before it was kept.
            try db.execute(sql: "ALTER TABLE cohort_truth ADD COLUMN visit_utilities BLOB")
        }
        return m
    }
}
