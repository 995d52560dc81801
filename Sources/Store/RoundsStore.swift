import Foundation
import GRDB
import Patients

/// The embedded store: one SQLite file in WAL mode holding patients, clinicians' decisions and
/// the audit log, its schema kept by versioned migrations.
///
/// The file is created 0600 in a 0700 folder: it holds health data.
public final class RoundsStore: Sendable {
    public let path: String
    let pool: DatabasePool
    /// The site key beside the store (`<store>.site-key`, 0600).
    public let siteKey: SiteKey
    /// The Ed25519 key that signs the audit log's checkpoints (`<store>.signing-key`, 0600).
    public let signingKey: SigningKey

    /// `--db`, else `ROUNDS_DB`, else `~/.rounds/rounds.sqlite`.
    public static func resolvePath(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let p = explicit, !p.isEmpty { return p }
        if let p = environment["ROUNDS_DB"], !p.isEmpty { return p }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".rounds/rounds.sqlite")
    }

    public init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let fm = FileManager.default
        if !fm.fileExists(atPath: dir) {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
                throw StoreError.cannotOpen(path: path, reason: "cannot create folder \(dir): \(error.localizedDescription)")
            }
        }
        if !fm.fileExists(atPath: path) {
            let fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0o600)
            guard fd >= 0 else { throw StoreError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
            close(fd)
        }
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = true
        // Decisions and audit entries must survive a power cut once the shell said "recorded".
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        siteKey = try SiteKey.openOrCreate(path: SiteKey.path(forStore: path))
        signingKey = try SigningKey.openOrCreate(path: SigningKey.path(forStore: path))
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Migrations.migrator.migrate(pool)
        } catch let e as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: e.message ?? "\(e)")
        }
    }

    /// Applied migrations, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { try Migrations.migrator.appliedMigrations($0) }
    }

    public func journalMode() throws -> String {
        try pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") ?? "" }
    }

    // MARK: - Patients

    public func patientCount(origin: PatientRecord.Origin? = nil) throws -> Int {
        try pool.read { db in
            if let origin { return try Int.fetchOne(db, sql: "SELECT count(*) FROM patient WHERE origin = ?", arguments: [origin.rawValue]) ?? 0 }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM patient") ?? 0
        }
    }

    public func patient(id: String) throws -> PatientRecord? {
        try pool.read { db in
            guard let blob = try Data.fetchOne(db, sql: "SELECT record FROM patient WHERE id = ?", arguments: [id]) else { return nil }
            return try RecordCodec.decode([UInt8](blob))
        }
    }

    /// Stores imported records in one transaction: all or nothing. A record identical to the
    /// stored one is left alone, so importing the same data twice changes nothing.
    public func save(imported records: [PatientRecord], source: String, summarize: (PatientRecord) -> PatientSummaryFields) throws -> (new: Int, updated: Int, unchanged: Int) {
        try pool.write { db in
            var counts = (new: 0, updated: 0, unchanged: 0)
            for r in records {
                let bytes = RecordCodec.encode(r)
                if let old = try Data.fetchOne(db, sql: "SELECT record FROM patient WHERE id = ?", arguments: [r.id]) {
                    if [UInt8](old) == bytes { counts.unchanged += 1; continue }
                    counts.updated += 1
                } else { counts.new += 1 }
                try Self.upsert(db, r, bytes: bytes, source: source, summary: summarize(r))
            }
            return counts
        }
    }

    /// Replaces the synthetic cohort: removes every synthetic patient, then lets `produce`
    /// hand over batches, each written in its own transaction so memory stays bounded.
    public func replaceCohort(seed: UInt64, size: Int, generator: String,
                              produce: (_ write: ([SyntheticPatient]) throws -> Void) throws -> Void) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM patient WHERE origin = 'synthetic'")
            try db.execute(sql: "DELETE FROM cohort")
        }
        try produce { batch in
            try pool.write { db in
                let truth = try db.cachedStatement(sql: "INSERT INTO cohort_truth (patient_id, label, traits, utilities, visit_labels, visit_utilities) VALUES (?, ?, ?, ?, ?, ?)")
                for p in batch {
                    try Self.upsert(db, p.record, bytes: RecordCodec.encode(p.record), source: "cohort seed \(seed)", summary: p.summary)
                    try truth.execute(arguments: [p.record.id, p.label, Data(doubles: p.traits), Data(doubles: p.utilities), Data(p.visitLabels.map { UInt8($0) }),
                                                      p.visitUtilities.isEmpty ? nil : Data(floats: p.visitUtilities.flatMap { $0 })])
                }
            }
        }
        try pool.write { db in
            try db.execute(sql: "INSERT INTO cohort (id, seed, size, generator, generated_at) VALUES (1, ?, ?, ?, ?)",
                           arguments: [Int64(bitPattern: seed), size, generator, ClinicalCalendar.instantString(Date())])
        }
    }

    /// The demo cohort's settings, if one was generated.
    public func cohortInfo() throws -> (seed: UInt64, size: Int, generator: String, generatedAt: String)? {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT seed, size, generator, generated_at FROM cohort WHERE id = 1") else { return nil }
            return (UInt64(bitPattern: row["seed"] as Int64), row["size"], row["generator"], row["generated_at"])
        }
    }

    /// The simulator's truth for a synthetic patient.
    public func cohortTruth(id: String) throws -> (label: String, traits: [Double], utilities: [Double])? {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT label, traits, utilities FROM cohort_truth WHERE patient_id = ?", arguments: [id]) else { return nil }
            return (row["label"], (row["traits"] as Data).doubles, (row["utilities"] as Data).doubles)
        }
    }

    static func upsert(_ db: Database, _ r: PatientRecord, bytes: [UInt8], source: String, summary: PatientSummaryFields) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO patient (id, name, sex, birth_date, deceased_at, origin, source, visit_count, first_visit, last_visit, age, conditions, updated_at, record)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET name = excluded.name, sex = excluded.sex, birth_date = excluded.birth_date,
                deceased_at = excluded.deceased_at, origin = excluded.origin, source = excluded.source,
                visit_count = excluded.visit_count, first_visit = excluded.first_visit, last_visit = excluded.last_visit,
                age = excluded.age, conditions = excluded.conditions, updated_at = excluded.updated_at, record = excluded.record
            """)
        // The last visit listed is the review date: the last encounter of any kind (before death),
        // which for the synthetic cohort is its last visit.
        let last = (try? ReviewPoint.resolve(r))?.date
        try statement.execute(arguments: [
            r.id, r.name, r.sex.rawValue, ClinicalCalendar.dayString(r.birthDate), r.deceasedAt.map(ClinicalCalendar.dayString),
            r.origin.rawValue, source, r.visits.count, r.visits.first.map { ClinicalCalendar.dayString($0.date) },
            last.map(ClinicalCalendar.dayString), last.map { r.age(at: $0) },
            summary.conditions.joined(separator: " "), ClinicalCalendar.instantString(Date()), Data(bytes),
        ])
    }

    /// Lists patients matching `filter`, ordered by id.
    public func patients(_ filter: PatientFilter = PatientFilter()) throws -> [PatientSummary] {
        var clauses: [String] = []
        var args: [any DatabaseValueConvertible] = []
        if let s = filter.sex { clauses.append("sex = ?"); args.append(s.rawValue) }
        if let o = filter.origin { clauses.append("origin = ?"); args.append(o.rawValue) }
        if let a = filter.minAge { clauses.append("age >= ?"); args.append(a) }
        if let a = filter.maxAge { clauses.append("age <= ?"); args.append(a) }
        for c in filter.conditions { clauses.append("(' ' || conditions || ' ') LIKE ?"); args.append("% \(c) %") }
        if let q = filter.search, !q.isEmpty { clauses.append("(id LIKE ? OR name LIKE ?)"); args += ["%\(q)%", "%\(q)%"] }
        var sql = "SELECT id, name, sex, birth_date, age, origin, visit_count, first_visit, last_visit, conditions, deceased_at FROM patient"
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += " ORDER BY id"
        if let limit = filter.limit { sql += " LIMIT \(max(0, limit))" }
        return try pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { row in
                PatientSummary(id: row["id"], name: row["name"], sex: Sex(rawValue: row["sex"]) ?? .unknown,
                               birthDate: row["birth_date"], age: row["age"], origin: PatientRecord.Origin(rawValue: row["origin"]) ?? .imported,
                               visitCount: row["visit_count"], firstVisit: row["first_visit"], lastVisit: row["last_visit"],
                               conditions: (row["conditions"] as String).split(separator: " ").map(String.init),
                               deceasedAt: row["deceased_at"])
            }
        }
    }

    /// Patient ids, for completion and validation.
    public func patientIDs() throws -> [String] {
        try pool.read { try String.fetchAll($0, sql: "SELECT id FROM patient ORDER BY id") }
    }
}

/// What `save` needs to know of a record beyond the record itself.
public struct PatientSummaryFields: Sendable {
    /// Condition features holding at the last visit.
    public var conditions: [String]
    public init(conditions: [String]) { self.conditions = conditions }
}

/// A synthetic patient with what only the simulator knows of them.
public struct SyntheticPatient: Sendable {
    public var record: PatientRecord
    public var summary: PatientSummaryFields
    public var label: String
    public var traits: [Double]
    public var utilities: [Double]
    /// The best option at every visit (indices into the pack's treatments).
    public var visitLabels: [Int]
    /// The utility of every option at every visit (the simulator's order), visit by visit.
    public var visitUtilities: [[Double]]
    public init(record: PatientRecord, summary: PatientSummaryFields, label: String, traits: [Double], utilities: [Double], visitLabels: [Int],
                visitUtilities: [[Double]] = []) {
        self.record = record; self.summary = summary; self.label = label; self.traits = traits; self.utilities = utilities; self.visitLabels = visitLabels
        self.visitUtilities = visitUtilities
    }
}

/// A row of `rounds patients`.
public struct PatientSummary: Sendable, Codable, Equatable {
    public var id: String
    public var name: String?
    public var sex: Sex
    public var birthDate: String
    /// Age at the last visit (clinical time, not the wall clock).
    public var age: Int?
    public var origin: PatientRecord.Origin
    public var visitCount: Int
    public var firstVisit: String?
    public var lastVisit: String?
    public var conditions: [String]
    public var deceasedAt: String?
}

public struct PatientFilter: Sendable {
    public var sex: Sex?
    public var origin: PatientRecord.Origin?
    public var minAge: Int?
    public var maxAge: Int?
    public var conditions: [String] = []
    public var search: String?
    public var limit: Int?
    public init(sex: Sex? = nil, origin: PatientRecord.Origin? = nil, minAge: Int? = nil, maxAge: Int? = nil,
                conditions: [String] = [], search: String? = nil, limit: Int? = nil) {
        self.sex = sex; self.origin = origin; self.minAge = minAge; self.maxAge = maxAge
        self.conditions = conditions; self.search = search; self.limit = limit
    }
}

extension Data {
    init(doubles: [Double]) {
        var w = RecordCodec.Writer()
        for d in doubles { w.double(d) }
        self.init(w.bytes)
    }
    var doubles: [Double] {
        var r = RecordCodec.Reader(bytes: [UInt8](self))
        return (0..<(count / 8)).compactMap { _ in try? r.double() }
    }
    /// Little-endian float32s.
    init(floats: [Double]) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(floats.count * 4)
        for d in floats { let b = Float(d).bitPattern; for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: b >> s)) } }
        self.init(bytes)
    }
    var floats: [Float] {
        let b = [UInt8](self)
        return (0..<(b.count / 4)).map { i in
            Float(bitPattern: UInt32(b[4 * i]) | UInt32(b[4 * i + 1]) << 8 | UInt32(b[4 * i + 2]) << 16 | UInt32(b[4 * i + 3]) << 24)
        }
    }
}

extension RoundsStore {
    /// How many synthetic patients have each label.
    public func cohortLabelCounts() throws -> [String: Int] {
        try pool.read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT label, count(*) AS n FROM cohort_truth GROUP BY label") { out[row["label"]] = row["n"] }
            return out
        }
    }
}

extension RoundsStore {
    /// Every synthetic patient with their label (the best simulated treatment at the index
    /// visit) and the best option at each visit, ordered by id.
    public func labelledPatients() throws -> [LabelledPatient] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT p.record, t.label, t.visit_labels, t.utilities, t.visit_utilities FROM patient p JOIN cohort_truth t ON t.patient_id = p.id ORDER BY p.id").map { row in
                LabelledPatient(record: try RecordCodec.decode([UInt8](row["record"] as Data)), label: row["label"],
                                visitLabels: (row["visit_labels"] as Data?).map { $0.map(Int.init) } ?? [],
                                utilities: (row["utilities"] as Data).doubles,
                                visitUtilities: (row["visit_utilities"] as Data?)?.floats ?? [])
            }
        }
    }
}

/// A synthetic patient as training sees them.
public struct LabelledPatient: Sendable {
    public var record: PatientRecord
    public var label: String
    /// Best option at each visit (indices into the pack's treatments); empty for cohorts stored
    /// before this was kept.
    public var visitLabels: [Int]
    /// The utility of every option at the index visit, in the simulator's order
    /// (`ResponseSimulator.treatments`), as `cohortTruth` gives them.
    public var utilities: [Double] = []
    /// The utility of every option at every visit, visit-major in the simulator's order
    /// (visits × options values); empty for cohorts stored before this was kept.
    public var visitUtilities: [Float] = []

    /// Visit `k`'s utilities (the simulator's order), when the store keeps them.
    public func utilities(atVisit k: Int) -> [Float]? {
        let n = record.visits.count
        guard n > 0, visitUtilities.count % n == 0, !visitUtilities.isEmpty, k >= 0, k < n else { return nil }
        let K = visitUtilities.count / n
        return Array(visitUtilities[(k * K)..<(k * K + K)])
    }
}
