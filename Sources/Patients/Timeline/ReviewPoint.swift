import Foundation

/// When a patient is reviewed: the review date, and the last visit the model may see by then.
///
/// By default the review date is the patient's last encounter of any kind (for a deceased
/// patient, the last one on or before death; a death certification is no encounter), else, for
/// records without encounters (the synthetic cohort), the last visit. `--as-of DATE` and
/// `--visit N` move it. Labs are as of this date and staleness windows count from it; the model
/// sees the visits with model features up to it.
public struct ReviewPoint: Sendable, Equatable {
    public enum Basis: String, Sendable, Codable {
        /// The last encounter of the record.
        case lastEncounter = "last encounter"
        /// The last encounter on or before the patient's death.
        case lastEncounterBeforeDeath = "last encounter before death"
        /// A date the user gave (`--as-of`).
        case asOf = "as of the date given"
        /// A visit the user chose (`--visit`).
        case visit = "visit chosen"
    }

    public var date: Date
    /// The model's index visit: the last visit (0-based) on or before the review date; nil when none.
    public var visit: Int?
    public var basis: Basis

    public init(date: Date, visit: Int?, basis: Basis) { self.date = date; self.visit = visit; self.basis = basis }

    public var day: String { ClinicalCalendar.dayString(date) }

    /// The review point of `record`: at visit `visit` (0-based) or as of `asOf` if given, else
    /// at its last encounter.
    public static func resolve(_ record: PatientRecord, asOf: Date? = nil, visit: Int? = nil) throws -> ReviewPoint {
        if let visit {
            guard record.visits.indices.contains(visit) else {
                throw ReviewDateError("--visit must be 1 to \(record.visits.count) (\(record.id) has \(record.visits.count) visits with model features)")
            }
            return ReviewPoint(date: record.visits[visit].date, visit: visit, basis: .visit)
        }
        if let asOf {
            if let death = record.deceasedAt, asOf > ClinicalCalendar.endOfDay(death) {
                throw ReviewDateError("\(record.id) died on \(ClinicalCalendar.dayString(death)): review as of a date on or before it")
            }
            if asOf < record.birthDate { throw ReviewDateError("\(ClinicalCalendar.dayString(asOf)) is before \(record.id) was born") }
            return ReviewPoint(date: asOf, visit: lastVisit(record, onOrBefore: asOf), basis: .asOf)
        }
        let limit = record.deceasedAt.map(ClinicalCalendar.endOfDay) ?? .distantFuture
        let encounter = record.encounters.last { $0.date <= limit }?.date
        let lastVisit = record.visits.last { $0.date <= limit }?.date
        guard let date = [encounter, lastVisit].compactMap({ $0 }).max() else {
            throw ReviewDateError("\(record.id) has no encounters to review")
        }
        return ReviewPoint(date: date, visit: self.lastVisit(record, onOrBefore: date),
                           basis: record.deceasedAt == nil ? .lastEncounter : .lastEncounterBeforeDeath)
    }

    /// The last visit on or before the end of `date`'s day.
    static func lastVisit(_ record: PatientRecord, onOrBefore date: Date) -> Int? {
        let cutoff = ClinicalCalendar.endOfDay(date)
        return record.visits.lastIndex { $0.date <= cutoff }
    }
}

/// A review point that cannot be had, said in words.
public struct ReviewDateError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
