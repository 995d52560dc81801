import Foundation
import GRDB
import Patients

/// Decisions in the store. A decision and its audit entry are written in one transaction: both
/// or neither, so a process killed while recording leaves no half-written decision and no
/// decision without its place in the chain.
extension RoundsStore {
    /// Commits `decision` with its audit entry and returns both as stored. Only after this
    /// returns may the shell say the decision was recorded.
    @discardableResult
    public func record(_ decision: DecisionRecord, audit: AuditEntry) throws -> (decision: DecisionRecord, audit: AuditEntry) {
        try writeImmediate { db in
            var d = decision
            d.recordedAt = ClinicalCalendar.instantString(Date(), milliseconds: true)
            let body = try d.canonical()
            var e = audit
            e.event = .decisionRecorded
            e.action = "C"
            e.patient = d.patient
            e.detail["decision"] = d.id
            e.detail["decision_sha256"] = Digest.sha256(body)
            e.detail["outcome"] = d.outcome.rawValue
            e.detail["recommended"] = d.recommended
            e.detail["chosen"] = d.chosen
            e.detail["reason"] = d.reason?.code
            e.detail["reward"] = String(d.reward)
            e.detail["model_sha256"] = d.modelSha256
            if d.contraindicatedChoice { e.detail["contraindicated_choice"] = "true" }
            let stored = try Self.append(db, e, key: siteKey)
            try db.execute(sql: """
                INSERT INTO decision (id, recorded_at, clinician, patient_id, outcome, recommended, chosen, reward, model_sha256, audit_seq, body)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [d.id, d.recordedAt, d.clinician, d.patient, d.outcome.rawValue, d.recommended, d.chosen, d.reward,
                                 d.modelSha256, stored.seq, body])
            return (d, stored)
        }
    }

    /// A patient's decisions, oldest first.
    public func decisions(patient: String) throws -> [DecisionRecord] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM decision WHERE patient_id = ? ORDER BY audit_seq", arguments: [patient]).map(Self.decodeDecision)
        }
    }

    /// The decision with this id (for a CDS Hooks card, its uuid), if one was recorded.
    public func decision(id: String) throws -> DecisionRecord? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT body FROM decision WHERE id = ?", arguments: [id]).map(Self.decodeDecision) }
    }

    /// Every decision, oldest first.
    public func allDecisions() throws -> [DecisionRecord] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT body FROM decision ORDER BY audit_seq").map(Self.decodeDecision) }
    }

    public func decisionCount() throws -> Int {
        try pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM decision") ?? 0 }
    }

    static func decodeDecision(_ body: String) throws -> DecisionRecord {
        do { return try JSONDecoder().decode(DecisionRecord.self, from: Data(body.utf8)) } catch {
            throw StoreError.corrupt("a decision record cannot be read (`audit verify` checks the store): \(error)")
        }
    }
}
