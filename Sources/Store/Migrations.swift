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
        return m
    }
}
