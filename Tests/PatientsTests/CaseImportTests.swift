import Foundation
import Testing
@testable import Patients
import TestSupport

/// The hand-written FHIR cases of `Sessions/cases/`, each in the shape an EHR writes, imported
/// into memory: what each one must show.
@Suite struct CaseImportTests {
    let importer = FHIRImporter(pack: TestSupport.pack)
    static let cases = TestSupport.repoRoot.appendingPathComponent("Sessions/cases")

    func read(_ name: String) -> (ImportReport, [PatientRecord]) {
        var records: [PatientRecord] = []
        let report = importer.run(paths: [Self.cases.appendingPathComponent(name).path]) { unit in records += unit.records; return (unit.records.count, 0, 0) }
        return (report, records)
    }

    @Test func everyCaseImports() {
        var records: [PatientRecord] = []
        let report = importer.run(paths: [Self.cases.path]) { unit in records += unit.records; return (unit.records.count, 0, 0) }
        #expect(!report.failed, "\(report.errors)")
        #expect(report.files.count == 9 && report.referenceFiles == 1 && records.count == 8)
    }

    /// A transaction's POST entries: the Patient has no id, only its urn:uuid fullUrl names it.
    @Test func aPatientWithoutAnIdIsNamedByItsFullUrl() throws {
        let (report, records) = read("patient-without-id.json")
        #expect(!report.failed, "\(report.errors)")
        let r = try #require(records.first)
        #expect(r.id == "70617469-0000-4000-8000-000000000001")
        #expect(r.visits.count == 3 && r.name == "Ana Ferreira")
        #expect(!report.unmapped.contains { $0.code == "44054006" })
    }

    /// With neither an id nor a fullUrl the Patient cannot be named, and the failure says so
    /// (the cause, not "no Patient with a birth date").
    @Test func aPatientWithNeitherIdNorFullUrlFailsWithTheCause() {
        let path = TestSupport.write(#"{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient", "birthDate": "1960-01-01"}}, {"resource": {"resourceType": "Encounter", "period": {"start": "2024-01-01"}}}]}"#, name: "anon.json")
        let report = importer.run(paths: [path]) { _ in (0, 0, 0) }
        #expect(report.failed)
        #expect(report.errors.first?.message.contains("Patient without an id or a fullUrl") == true, "\(report.errors)")
        #expect(report.warnings.contains { $0.message.contains("Patient without an id") })   // the failed file's problems are kept
    }

    /// Synthea's hospitalInformation/practitionerInformation shape: reference data, counted, not failed.
    @Test func organisationsOnlyIsReferenceData() {
        let (report, records) = read("organisations-only.json")
        #expect(!report.failed && records.isEmpty)
        #expect(report.referenceFiles == 1 && report.files.first?.referenceData == true)
        #expect(report.skipped["Organization"] == 1 && report.skipped["Practitioner"] == 1 && report.skipped["Location"] == 1)
    }

    @Test func anEncounterWithoutASubjectBelongsToTheOnlyPatient() throws {
        let (report, records) = read("encounter-without-subject.json")
        let r = try #require(records.first)
        #expect(r.visits.count == 1 && r.encounters.count == 1)
        #expect(r.visits[0].observations.contains { $0.code == "4548-4" && $0.value == 7.8 })
        #expect(report.warnings.contains { $0.message.contains("1 Encounter, 3 Observation without a subject: attached to the only patient") })
    }

    /// With two patients in the input, a subject-less resource belongs to neither.
    @Test func withTwoPatientsASubjectlessResourceIsSkipped() {
        let path = TestSupport.write(TestSupport.bundle([
            #"{"resourceType": "Patient", "id": "a", "birthDate": "1960-01-01"}"#, #"{"resourceType": "Patient", "id": "b", "birthDate": "1961-01-01"}"#,
            #"{"resourceType": "Encounter", "period": {"start": "2024-01-01"}}"#]), name: "two.json")
        var records: [PatientRecord] = []
        let report = importer.run(paths: [path]) { u in records += u.records; return (u.records.count, 0, 0) }
        #expect(records.count == 2 && records.allSatisfy { $0.encounters.isEmpty })
        #expect(report.warnings.contains { $0.message.contains("has no subject and this input holds 2 patients") })
    }

    @Test func anImplausibleHbA1cIsReportedWithFileAndEntryAndNotUsed() throws {
        let (report, records) = read("implausible-hba1c.json")
        let r = try #require(records.first)
        let warning = try #require(report.warnings.first { $0.message.contains("hba1c 2.8 %") })
        #expect(warning.message.contains("implausible") && warning.location.file.hasSuffix("implausible-hba1c.json") && warning.location.entry != nil)
        let known = FeatureExtractor(pack: TestSupport.pack).knownValues(for: r, at: r.visits.last!.date)
        #expect(known["hba1c"]?.value == 8.1)        // the last plausible one
        #expect(r.visits.last!.observations.contains { $0.value == 2.8 })   // kept as the source said, never used
    }

    /// The review date is the last encounter before death; the death certification is no encounter.
    @Test func aDeceasedPatientIsReviewedAtTheLastEncounterBeforeDeath() throws {
        let (_, records) = read("deceased-patient.json")
        let r = try #require(records.first)
        #expect(ClinicalCalendar.dayString(try #require(r.deceasedAt)) == "2024-03-17")
        #expect(r.encounters.count == 3)    // the death certification is not kept
        let review = try ReviewPoint.resolve(r)
        #expect(review.day == "2024-03-15" && review.basis == .lastEncounterBeforeDeath && review.visit == 2)
        #expect(throws: ReviewDateError.self) { try ReviewPoint.resolve(r, asOf: ClinicalCalendar.day(2024, 4, 1)) }
    }

    /// The review date is the last encounter, not the last visit with a model feature: the
    /// eGFR taken 14 months before is stale at it.
    @Test func theReviewDateIsTheLastEncounter() throws {
        let (report, records) = read("adult-type2.json")
        let r = try #require(records.first)
        #expect(r.visits.count == 4 && r.encounters.count == 5)
        let review = try ReviewPoint.resolve(r)
        #expect(review.day == "2025-01-20" && review.basis == .lastEncounter && review.visit == 3)
        let known = FeatureExtractor(pack: TestSupport.pack).knownValues(for: r, at: review.date)
        #expect(known["egfr"] == nil)        // 2023-11-13 is over 365 days before 2025-01-20
        let atVisit = FeatureExtractor(pack: TestSupport.pack).knownValues(for: r, asOf: 3)
        #expect(atVisit["egfr"]?.value == 52)
        let asOf = try ReviewPoint.resolve(r, asOf: ClinicalCalendar.day(2023, 6, 1))
        #expect(asOf.visit == 2 && asOf.basis == .asOf)
        // Context: HDL, cholesterol, lisinopril and atorvastatin are known, not unmapped.
        for code in ["2085-9", "2093-3", "314076", "617310", "368581000119106"] { #expect(!report.unmapped.contains { $0.code == code }, "\(code)") }
        let pack = TestSupport.pack
        #expect(Set(pack.context.therapies(of: r, at: review.date).map(\.therapy.id)) == ["ace_inhibitor", "statin"])
        #expect(Set(pack.context.conditions(of: r, at: review.date).map(\.condition.id)) == ["type2_diabetes", "diabetic_neuropathy"])
        #expect(pack.population.reasons(r, at: review.date, pack: pack).isEmpty)
    }

    @Test(arguments: [("adolescent-without-diabetes.json", ["aged 16", "no type 2 diabetes coded", "on 0 occasion(s)"]),
                      ("pregnant-woman.json", ["pregnancy (Normal pregnancy (finding) since 2024-06-03)"]),
                      ("type1-patient.json", ["type 1 diabetes (Diabetes mellitus type 1 (disorder) since 2002-04-15): outside the population"])])
    func outsideThePopulation(_ name: String, _ expected: [String]) throws {
        let (_, records) = read(name)
        let r = try #require(records.first)
        let reasons = TestSupport.pack.population.reasons(r, at: try ReviewPoint.resolve(r).date, pack: TestSupport.pack).joined(separator: "; ")
        for e in expected { #expect(reasons.contains(e), "\(name): \(reasons)") }
    }

    /// Type 2 diabetes derived from two HbA1c values of 6.5 % or more on different days, without a code.
    @Test func typeTwoDiabetesDerivedFromTwoHbA1cValues() throws {
        func record(_ values: [(String, Double)]) -> PatientRecord {
            let visits = values.enumerated().map { i, v in
                Visit(id: "v\(i)", date: ClinicalCalendar.parse(v.0)!, kind: "check",
                      observations: [Observation(code: "4548-4", display: "HbA1c", value: v.1, unit: "%", time: ClinicalCalendar.parse(v.0)!)])
            }
            return PatientRecord(id: "p", sex: .male, birthDate: ClinicalCalendar.day(1960, 1, 1), origin: .imported, visits: visits, conditions: [], medications: [])
        }
        let pack = TestSupport.pack
        let two = record([("2024-01-01", 6.6), ("2024-04-01", 6.5)])
        #expect(pack.population.reasons(two, at: two.visits.last!.date, pack: pack).isEmpty)
        let one = record([("2024-01-01", 6.6), ("2024-04-01", 6.4)])
        #expect(pack.population.reasons(one, at: one.visits.last!.date, pack: pack).first?.contains("on 1 occasion(s)") == true)
        let sameDay = record([("2024-01-01T09:00:00Z", 6.6), ("2024-01-01T15:00:00Z", 6.9)])
        #expect(!pack.population.reasons(sameDay, at: sameDay.visits.last!.date, pack: pack).isEmpty)
    }
}
