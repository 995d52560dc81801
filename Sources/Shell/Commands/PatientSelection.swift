import ArgumentParser
import Foundation
import Patients
import Review
import Store

/// Which patient and which visit a patient view shows: the loaded patient and its last visit
/// unless the command line says otherwise.
struct PatientSelection: ParsableArguments {
    @Option(help: ArgumentHelp("The patient (default: the one loaded).", valueName: "id")) var patient: String?
    @Option(help: ArgumentHelp("Review as of this visit (1 = first; default: the last).", valueName: "n")) var visit: Int?

    func record(in session: Session) throws -> PatientRecord {
        try patient.map { try session.load($0) } ?? session.requirePatient()
    }

    /// The 0-based index visit for `record`.
    func index(for record: PatientRecord) throws -> Int {
        guard !record.visits.isEmpty else { throw ValidationError("\(record.id) has no visits with model features to review") }
        let i = (visit.map { $0 - 1 }) ?? (record.visits.count - 1)
        guard record.visits.indices.contains(i) else { throw ValidationError("--visit must be 1 to \(record.visits.count)") }
        return i
    }
}

/// The shell's ways into the review core's analysis: a selected or given patient of the session.
extension PatientAnalysis {
    init(session: Session, selection: PatientSelection) throws {
        let record = try selection.record(in: session)
        try self.init(session: session, record: record, index: try selection.index(for: record))
    }

    init(session: Session, record: PatientRecord, index: Int) throws {
        try self.init(workspace: session.workspace, record: record, index: index)
    }

    /// Logs that this analysis was shown: which visit, which model, what it recommended.
    func audit(_ session: Session, _ event: AuditEvent, detail: [String: String] = [:]) throws {
        try session.audit(event, patient: record.id, detail: auditDetail(detail))
    }
}
