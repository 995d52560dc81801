import Foundation

/// Builds patient records from the resources of one import unit (a Bundle file, or all the
/// NDJSON files of a run), resolving references between them.
///
/// - Visits are the Encounters at which a model feature was measured; observations join their
///   Encounter by reference, else a visit on the same day, else a visit of their own. Every
///   encounter (any kind; not a death certification) is kept as well: the review date is the last.
/// - A resource without a subject in a unit with exactly one Patient belongs to that patient
///   (hand-written and EHR bundles often leave `subject` out); with several it is skipped.
/// - A MedicationRequest runs from `authoredOn` to its validity end if given; a renewal of the
///   same drug continues it; a `stopped` or `completed` one with no end date ends at the
///   patient's next encounter (Synthea records stopping without a date).
/// - A Condition runs from onset to abatement; one marked resolved with no date ends at onset.
struct RecordAssembler {
    let pack: KnowledgePack
    var resources: [FHIRResource] = []

    init(pack: KnowledgePack) { self.pack = pack }

    mutating func add(_ r: FHIRResource) { resources.append(r) }

    func assemble(stats: inout ImportStatistics) -> [PatientRecord] {
        var patientIndex: [String: Int] = [:]
        var patients: [FHIRResource.Patient] = []
        var encounters: [String: FHIRResource.Encounter] = [:]
        var encounterList: [FHIRResource.Encounter] = []
        var medications: [String: FHIRResource.Coded] = [:]
        for r in resources {
            switch r {
            case .patient(let p):
                let i = patients.count
                patients.append(p)
                for k in p.keys { patientIndex[k] = i }
            case .encounter(let e):
                encounterList.append(e)
                for k in e.keys { encounters[k] = e }
            case .medication(let m):
                for k in m.keys { medications[k] = m.code }
            default: break
            }
        }
        var builders = patients.map { PatientBuilder(patient: $0) }
        var attached: [String: Int] = [:]
        var firstAttached: SourceLocation?
        func owner(_ subject: String?, _ type: String, _ location: SourceLocation) -> Int? {
            guard let s = subject else {
                if patients.count == 1 {
                    attached[type, default: 0] += 1
                    if firstAttached == nil { firstAttached = location }
                    return 0
                }
                stats.warnings.append(ImportIssue("\(type) has no subject and this input holds \(patients.count) patients: skipped", at: location)); return nil
            }
            guard let i = patientIndex[s] else {
                stats.warnings.append(ImportIssue("\(type) refers to patient \(s), which is not in this input: skipped", at: location)); return nil
            }
            return i
        }
        for e in encounterList {
            guard let i = owner(e.subject, "Encounter", e.location) else { continue }
            guard let start = e.start else { stats.warnings.append(ImportIssue("Encounter has no period: skipped", at: e.location)); continue }
            builders[i].encounters.append((e.keys, start, e.kind, e.deathCertification))
        }
        for r in resources {
            switch r {
            case .observation(let o):
                guard let i = owner(o.subject, "Observation", o.location) else { continue }
                let encounterStart = o.encounter.flatMap { encounters[$0]?.start }
                guard let time = o.time ?? encounterStart else {
                    stats.warnings.append(ImportIssue("Observation has no effective time: skipped", at: o.location)); continue
                }
                for (code, _) in o.nonNumeric {
                    if let def = pack.features.definition(loinc: code) {
                        stats.noteProblem(feature: def.id, problem: "value is not a quantity", issue: ImportIssue("\(def.name) without a numeric value", at: o.location))
                    }
                }
                for v in o.values {
                    var measurement = pack.features.measure(code: v.code, value: v.value, unit: v.unit)
                    var file = "features.yaml"
                    if measurement == .unmapped { measurement = pack.context.labs.measure(code: v.code, value: v.value, unit: v.unit); file = "context.yaml" }
                    switch measurement {
                    case .value: break
                    case .unmapped: stats.noteUnmapped(system: "LOINC", code: v.code, display: v.display)
                    case .unknownUnit(let f, let unit):
                        stats.noteProblem(feature: f, problem: "unknown unit '\(unit)'", issue: ImportIssue("\(f) \(v.value) \(unit): unit not known to \(file)", at: o.location))
                    case .outOfRange(let f, let value, let range):
                        let unit = (pack.features.definition(id: f) ?? pack.context.labs.definition(id: f))?.unit ?? ""
                        let issue = ImportIssue("\(f) \(Self.number(value)) \(unit) on \(ClinicalCalendar.dayString(time)) is implausible (outside \(Self.number(range.lowerBound))–\(Self.number(range.upperBound)) \(unit)): not used", at: o.location)
                        stats.noteProblem(feature: f, problem: "implausible: outside \(Self.number(range.lowerBound))–\(Self.number(range.upperBound)) \(unit)", issue: issue)
                        stats.warnings.append(issue)
                    }
                    builders[i].observations.append((o.encounter, Observation(code: v.code, display: v.display, value: v.value, unit: v.unit, time: time)))
                }
            case .condition(let c):
                guard let i = owner(c.subject, "Condition", c.location) else { continue }
                guard let onset = c.onset else { stats.warnings.append(ImportIssue("Condition \(c.code) has no onset or recorded date: skipped", at: c.location)); continue }
                if pack.features.conditionFeature(code: c.code, display: c.display) == nil && !pack.context.knowsCondition(code: c.code, display: c.display) {
                    stats.noteUnmapped(system: c.system == FHIRSystem.snomed ? "SNOMED" : c.system, code: c.code, display: c.display)
                }
                builders[i].conditions.append(ConditionEntry(code: c.code, display: c.display, onset: onset, abatement: c.abatement ?? (c.resolvedWithoutDate ? onset : nil)))
            case .medicationRequest(let m):
                guard let i = owner(m.subject, "MedicationRequest", m.location) else { continue }
                var coded = m.medication
                if coded == nil, let ref = m.medicationReference {
                    coded = medications[ref]
                    if coded == nil {
                        stats.warnings.append(ImportIssue("MedicationRequest refers to medication \(ref), which is not in this input: skipped", at: m.location)); continue
                    }
                }
                guard let med = coded else { stats.warnings.append(ImportIssue("MedicationRequest names no medication: skipped", at: m.location)); continue }
                guard let start = m.authored else { stats.warnings.append(ImportIssue("MedicationRequest has no authoredOn date: skipped", at: m.location)); continue }
                if pack.treatments.map(code: med.code, display: med.display) == nil && pack.context.therapies.map(code: med.code, display: med.display) == nil {
                    stats.noteUnmapped(system: med.system == FHIRSystem.rxnorm ? "RxNorm" : med.system, code: med.code, display: med.display)
                }
                builders[i].requests.append((med, m.status, start, m.end))
            default: break
            }
        }
        if let first = firstAttached, let p = patients.first {
            let what = attached.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            stats.warnings.append(ImportIssue("\(what) without a subject: attached to the only patient of this input, Patient/\(p.id)", at: first))
        }
        return builders.compactMap { $0.build(pack: pack, stats: &stats) }
    }

    /// A value as a person writes it: no trailing zeros.
    static func number(_ x: Double) -> String { String(format: "%g", x) }

    /// Whether the unit holds a Patient resource (with or without a birth date).
    var hasPatient: Bool { resources.contains { if case .patient = $0 { return true } else { return false } } }
}

/// Gathers one patient's resources, then orders them into a record.
private struct PatientBuilder {
    let patient: FHIRResource.Patient
    var encounters: [(keys: [String], start: Date, kind: String, deathCertification: Bool)] = []
    var observations: [(encounter: String?, observation: Observation)] = []
    var conditions: [ConditionEntry] = []
    var requests: [(med: FHIRResource.Coded, status: String, start: Date, end: Date?)] = []

    init(patient: FHIRResource.Patient) { self.patient = patient }

    func build(pack: KnowledgePack, stats: inout ImportStatistics) -> PatientRecord? {
        guard let birth = patient.birthDate else {
            stats.warnings.append(ImportIssue("Patient has no birthDate: not imported", at: patient.location)); return nil
        }
        // Visits: one per encounter, keyed by every name it is referenced by.
        let sortedEncounters = encounters.sorted { $0.start < $1.start }
        var visits: [Visit] = []
        var visitByKey: [String: Int] = [:]
        for e in sortedEncounters {
            let id = e.keys.last.map { $0.hasPrefix("Encounter/") ? String($0.dropFirst(10)) : $0 } ?? "encounter-\(visits.count)"
            for k in e.keys { visitByKey[k] = visits.count }
            visits.append(Visit(id: id, date: e.start, kind: e.kind, observations: []))
        }
        func dayNumber(_ d: Date) -> Int { Int((d.timeIntervalSince1970 / 86400).rounded(.down)) }
        var visitByDay: [Int: Int] = [:]
        for (i, v) in visits.enumerated() where visitByDay[dayNumber(v.date)] == nil { visitByDay[dayNumber(v.date)] = i }
        for (ref, o) in observations {
            if let ref, let v = visitByKey[ref] { visits[v].observations.append(o); continue }
            let day = dayNumber(o.time)
            if let v = visitByDay[day] {
                visits[v].observations.append(o)
            } else {
                visitByDay[day] = visits.count
                visits.append(Visit(id: "obs-\(ClinicalCalendar.dayString(o.time))", date: o.time, kind: "observation", observations: [o]))
            }
        }
        visits.sort { $0.date < $1.date }
        // Keep the visits at which a model feature was measured.
        let kept = visits.filter { v in v.observations.contains { pack.features.definition(loinc: $0.code) != nil } }
        let kept2 = kept.map { v -> Visit in var v = v; v.observations.sort { ($0.time, $0.code) < ($1.time, $1.code) }; return v }
        // Medication periods.
        let encounterDates = sortedEncounters.map(\.start)
        var meds: [MedicationEntry] = []
        let byCode = Dictionary(grouping: requests, by: { $0.med.code })
        for code in byCode.keys.sorted() {
            let rs = byCode[code]!.sorted { $0.start < $1.start }
            var periods: [(Date, Date?)] = []
            for (i, r) in rs.enumerated() {
                var end = r.end
                if end == nil {
                    if i + 1 < rs.count { end = rs[i + 1].start }
                    else if ["stopped", "completed", "cancelled", "ended"].contains(r.status) {
                        end = encounterDates.first { $0 > r.start } ?? r.start
                    }
                }
                if let last = periods.last, let lastEnd = last.1, lastEnd >= r.start {
                    periods[periods.count - 1].1 = end.map { max($0, lastEnd) }
                } else if let last = periods.last, last.1 == nil {
                    continue
                } else {
                    periods.append((r.start, end))
                }
            }
            let display = rs.last!.med.display
            meds += periods.map { MedicationEntry(code: code, display: display, start: $0.0, end: $0.1) }
        }
        meds.sort { ($0.start, $0.code) < ($1.start, $1.code) }
        let conds = conditions.sorted { ($0.onset, $0.code) < ($1.onset, $1.code) }
        let all = sortedEncounters.filter { !$0.deathCertification }.map { EncounterEntry(date: $0.start, kind: $0.kind) }
        return PatientRecord(id: patient.id, name: patient.name, sex: Sex(fhir: patient.gender), birthDate: birth,
                             deceasedAt: patient.deceased, origin: .imported, visits: kept2, conditions: conds, medications: meds, encounters: all)
    }
}
