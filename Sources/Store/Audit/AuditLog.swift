import Foundation
import GRDB
import Patients

/// Appending to the audit log. Every append runs in an IMMEDIATE transaction that reads the
/// chain's head, inserts the next entry and moves the head, so that two processes appending to
/// one store at once queue up and keep one chain, and a process killed mid-append leaves the
/// chain as it was.
extension RoundsStore {
    /// Appends `entry` (its `seq` and `recorded` are set here) and returns it as stored.
    @discardableResult
    public func append(_ entry: AuditEntry) throws -> AuditEntry {
        try writeImmediate { db in try Self.append(db, entry, key: siteKey) }
    }

    /// Appends many entries in one transaction (imports, benchmarks).
    public func append(_ entries: [AuditEntry]) throws {
        try writeImmediate { db in for (i, e) in entries.enumerated() { _ = try Self.append(db, e, key: i == entries.count - 1 ? siteKey : nil) } }
    }

    /// Runs `body` in one IMMEDIATE transaction: it takes the write lock at once, so that the
    /// head it reads is still the head when it commits.
    func writeImmediate<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    /// The chain's head: the last entry's seq and hash, or nil for an empty log.
    public func auditHead() throws -> (seq: Int, hash: String)? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1").map { ($0["seq"], $0["hash"]) }
        }
    }

    public func auditCount() throws -> Int {
        try pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit") ?? 0 }
    }

    /// The message the head's MAC covers.
    static func headMessage(seq: Int, hash: String) -> String { "rounds-audit-head/1 \(seq) \(hash)" }

    /// Appends inside the caller's transaction. The head's MAC is written when `key` is given:
    /// a batch signs its last entry only, since only the committed head is ever read.
    static func append(_ db: Database, _ entry: AuditEntry, key: SiteKey?) throws -> AuditEntry {
        let head = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit_head WHERE id = 1"))
        let seq = head.map { ($0["seq"] as Int) + 1 } ?? 0
        let previous: String = head?["hash"] ?? Digest.genesis
        var e = entry
        e.seq = seq
        e.recorded = ClinicalCalendar.instantString(Date(), milliseconds: true)
        let content = try e.canonical()
        let contentHash = Digest.sha256(content)
        guard let hash = Digest.link(previous: previous, content: contentHash) else {
            throw StoreError.corrupt("the audit head's hash is not a SHA-256 digest: \(previous)")
        }
        try db.cachedStatement(sql: """
            INSERT INTO audit (seq, recorded_at, event, clinician, patient_id, content, content_hash, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [seq, e.recorded, e.event.rawValue, e.clinician, e.patient, content, contentHash, previous, hash])
        try AuditTree.appendLeaf(db, seq: seq, content: content)
        try db.cachedStatement(sql: """
            INSERT INTO audit_head (id, seq, hash, mac) VALUES (1, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac
            """).execute(arguments: [seq, hash, key?.mac(headMessage(seq: seq, hash: hash)) ?? ""])
        return e
    }
}

extension RoundsStore {
    /// The latest `last` entries (of one patient, if given), oldest first.
    public func auditEntries(last: Int, patient: String? = nil) throws -> [AuditEntry] {
        try pool.read { db in
            let sql = "SELECT content FROM audit" + (patient == nil ? "" : " WHERE patient_id = ?") + " ORDER BY seq DESC LIMIT ?"
            let args: StatementArguments = patient.map { [$0, last] } ?? [last]
            return try String.fetchAll(db, sql: sql, arguments: args).reversed().map { text in
                do { return try AuditEntry.parse(text) } catch { throw StoreError.corrupt("an audit entry cannot be read (`audit verify` finds which)") }
            }
        }
    }
}
