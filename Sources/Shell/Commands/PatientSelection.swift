import ArgumentParser
import Foundation
import Patients
import Review
import Store

/// Which patient and which date a patient view shows: the loaded patient as of its last
/// encounter unless the command line says otherwise.
struct PatientSelection: ParsableArguments {
    @Option(help: ArgumentHelp("The patient (default: the one loaded).", valueName: "id")) var patient: String?
    @Option(help: ArgumentHelp("Review as of this visit with model features (1 = first; default: the last encounter).", valueName: "n")) var visit: Int?
    @Option(name: .customLong("as-of"), help: ArgumentHelp("Review as of this date (YYYY-MM-DD; default: the last encounter, or the last before death).", valueName: "date"))
    var asOf: String?

    func record(in session: Session) throws -> PatientRecord {
        try patient.map { try session.load($0) } ?? session.requirePatient()
    }

    /// When `record` is reviewed: `--visit`, else `--as-of`, else the date `load --as-of` set
    /// for this patient, else the last encounter.
    func review(for record: PatientRecord, in session: Session? = nil) throws -> ReviewPoint {
        let loaded = session?.reviewAsOf.flatMap { $0.patient == record.id && visit == nil ? $0.date : nil }
        return try Self.review(record, visit: visit, asOf: asOf ?? loaded)
    }

    static func review(_ record: PatientRecord, visit: Int?, asOf: String?) throws -> ReviewPoint {
        if visit != nil && asOf != nil { throw ValidationError("give --visit or --as-of, not both") }
        var date: Date?
        if let asOf {
            guard let d = ClinicalCalendar.parse(asOf) else { throw ValidationError("--as-of '\(asOf)' is not a date (YYYY-MM-DD)") }
            date = asOf.count <= 10 ? ClinicalCalendar.endOfDay(d) : d
        }
        do { return try ReviewPoint.resolve(record, asOf: date, visit: visit.map { $0 - 1 }) } catch let e as ReviewDateError {
            throw ValidationError(e.description)
        }
    }

    /// The 0-based visit the model sees last for `record`.
    func index(for record: PatientRecord) throws -> Int {
        try Self.modelVisit(record, try review(for: record))
    }

    static func modelVisit(_ record: PatientRecord, _ review: ReviewPoint) throws -> Int {
        guard let i = review.visit else {
            throw ValidationError(record.visits.isEmpty ? "\(record.id) has no visits with model features to review"
                                  : "\(record.id) has no visit with model features on or before \(review.day)")
        }
        return i
    }
}

/// The shell's ways into the review core's analysis: a selected or given patient of the session.
extension PatientAnalysis {
    init(session: Session, selection: PatientSelection) throws {
        let record = try selection.record(in: session)
        try self.init(session: session, record: record, review: try selection.review(for: record, in: session))
    }

    init(session: Session, record: PatientRecord, index: Int) throws {
        try self.init(workspace: session.workspace, record: record, index: index)
    }

    init(session: Session, record: PatientRecord, review: ReviewPoint) throws {
        _ = try PatientSelection.modelVisit(record, review)
        try self.init(workspace: session.workspace, record: record, review: review)
    }

    /// Logs that this analysis was shown: which visit, which model, what it recommended.
    func audit(_ session: Session, _ event: AuditEvent, detail: [String: String] = [:]) throws {
        try session.audit(event, patient: record.id, detail: auditDetail(detail))
    }
}
