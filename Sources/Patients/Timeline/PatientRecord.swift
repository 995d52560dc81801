import Foundation

/// One patient's record as Rounds keeps it: demographics and a timeline of visits, with the
/// conditions and medications that were active over time.
///
/// Records keep what the source said (codes, values, units, displays). Mapping onto model
/// features happens when features are extracted, through the knowledge pack, so that a change
/// to `Knowledge/features.yaml` never needs a re-import.
public struct PatientRecord: Sendable, Equatable {
    public var id: String
    /// Display name where the source has one; synthetic patients have none.
    public var name: String?
    public var sex: Sex
    /// Midnight UTC of the birth day.
    public var birthDate: Date
    public var deceasedAt: Date?
    public var origin: Origin
    /// Sorted by date, oldest first.
    public var visits: [Visit]
    public var conditions: [ConditionEntry]
    public var medications: [MedicationEntry]
    /// Every encounter of the source (any kind, with or without a model feature; a death
    /// certification is not one), sorted by date. `visits` are the subset the model sees; the
    /// review date is the last of these. Empty for synthetic records, whose visits are all their encounters.
    public var encounters: [EncounterEntry]

    public init(id: String, name: String? = nil, sex: Sex, birthDate: Date, deceasedAt: Date? = nil,
                origin: Origin, visits: [Visit], conditions: [ConditionEntry], medications: [MedicationEntry],
                encounters: [EncounterEntry] = []) {
        self.id = id; self.name = name; self.sex = sex; self.birthDate = birthDate
        self.deceasedAt = deceasedAt; self.origin = origin
        self.visits = visits; self.conditions = conditions; self.medications = medications
        self.encounters = encounters
    }

    /// Where a record came from. Everything shown from a synthetic record says it is synthetic.
    public enum Origin: String, Sendable, Codable, Equatable {
        case synthetic
        case imported
    }

    /// Conditions active at `date`: begun on or before it and not yet abated.
    public func activeConditions(at date: Date) -> [ConditionEntry] {
        conditions.filter { $0.isActive(at: date) }
    }

    /// Medications being taken at `date`.
    public func activeMedications(at date: Date) -> [MedicationEntry] {
        medications.filter { $0.isActive(at: date) }
    }

    /// Age in whole years at `date`.
    public func age(at date: Date) -> Int {
        ClinicalCalendar.wholeYears(from: birthDate, to: date)
    }

    /// The visit under review by default: the latest one.
    public var indexVisit: Visit? { visits.last }
}

public enum Sex: String, Sendable, Codable, Equatable, CaseIterable {
    case female, male, other, unknown

    /// Reads FHIR `Patient.gender` (male | female | other | unknown) and common abbreviations.
    public init(fhir value: String?) {
        switch value?.lowercased() {
        case "female", "f": self = .female
        case "male", "m": self = .male
        case "other": self = .other
        default: self = .unknown
        }
    }

    public var letter: String {
        switch self { case .female: "F"; case .male: "M"; case .other: "O"; case .unknown: "?" }
    }
}

/// One encounter of any kind, as the source dated and named it.
public struct EncounterEntry: Sendable, Equatable {
    public var date: Date
    public var kind: String
    public init(date: Date, kind: String) { self.date = date; self.kind = kind }
}

/// A visit (FHIR Encounter) and what was measured at it.
public struct Visit: Sendable, Equatable {
    public var id: String
    public var date: Date
    /// What kind of encounter: "wellness", "ambulatory", "emergency", ... as the source names it.
    public var kind: String
    public var observations: [Observation]

    public init(id: String, date: Date, kind: String, observations: [Observation]) {
        self.id = id; self.date = date; self.kind = kind; self.observations = observations
    }
}

/// One measured value: a LOINC-coded lab or vital sign, exactly as the source reported it.
public struct Observation: Sendable, Equatable {
    /// LOINC code.
    public var code: String
    public var display: String
    public var value: Double
    /// The unit as written in the source (UCUM code where there is one).
    public var unit: String
    public var time: Date

    public init(code: String, display: String, value: Double, unit: String, time: Date) {
        self.code = code; self.display = display; self.value = value; self.unit = unit; self.time = time
    }
}

/// A diagnosis (SNOMED CT) with the period it was active.
public struct ConditionEntry: Sendable, Equatable {
    public var code: String
    public var display: String
    public var onset: Date
    public var abatement: Date?

    public init(code: String, display: String, onset: Date, abatement: Date? = nil) {
        self.code = code; self.display = display; self.onset = onset; self.abatement = abatement
    }

    public func isActive(at date: Date) -> Bool {
        onset <= date && (abatement.map { date < $0 } ?? true)
    }
}

/// A medication (RxNorm) with the period it was taken.
public struct MedicationEntry: Sendable, Equatable {
    public var code: String
    public var display: String
    public var start: Date
    /// Nil while still being taken.
    public var end: Date?

    public init(code: String, display: String, start: Date, end: Date? = nil) {
        self.code = code; self.display = display; self.start = start; self.end = end
    }

    public func isActive(at date: Date) -> Bool {
        start <= date && (end.map { date < $0 } ?? true)
    }
}
