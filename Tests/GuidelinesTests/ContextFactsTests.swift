import Foundation
import Testing
@testable import Guidelines
import Patients
import TestSupport

/// The context of Knowledge/context.yaml as facts the rules can read, as of the review date.
@Suite struct ContextFactsTests {
    let pack = TestSupport.pack

    func record() -> PatientRecord {
        let d = ClinicalCalendar.day
        let hdl = Observation(code: "2085-9", display: "HDL", value: 0.9, unit: "mmol/L", time: d(2024, 3, 1))   // 34.8 mg/dL
        return PatientRecord(id: "p", sex: .female, birthDate: d(1960, 1, 1), origin: .imported,
                             visits: [Visit(id: "v", date: d(2024, 3, 1), kind: "check", observations: [hdl])],
                             conditions: [ConditionEntry(code: "44054006", display: "Diabetes", onset: d(2015, 1, 1)),
                                          ConditionEntry(code: "368581000119106", display: "Neuropathy due to type 2 diabetes mellitus", onset: d(2020, 1, 1))],
                             medications: [MedicationEntry(code: "314076", display: "lisinopril 10 MG Oral Tablet", start: d(2018, 1, 1)),
                                           MedicationEntry(code: "312961", display: "Simvastatin 20 MG Oral Tablet", start: d(2018, 1, 1), end: d(2023, 1, 1))],
                             encounters: [EncounterEntry(date: d(2024, 3, 1), kind: "check"), EncounterEntry(date: d(2024, 9, 1), kind: "foot check")])
    }

    @Test func contextConditionsLabsAndTherapiesAreFacts() throws {
        let facts = PatientFacts(record: record(), asOf: ClinicalCalendar.day(2024, 9, 1), pack: pack)
        #expect(facts.conditions.isSuperset(of: ["type2_diabetes", "diabetic_neuropathy"]))
        #expect(facts.taking.contains("ace_inhibitor") && !facts.taking.contains("statin"))   // the statin stopped in 2023
        let parser = ConditionParser(pack: pack)
        var used: [String: KnownValue] = [:], missing = Set<String>()
        for (text, expected) in [("has type2_diabetes", Truth.yes), ("has type1_diabetes", .no), ("taking ace_inhibitor", .yes), ("taking arb", .no),
                                 ("hdl < 40", .yes), ("taking statin or hdl >= 60", .no)] {
            #expect(facts.evaluate(try parser.parse(text), pack: pack, used: &used, missing: &missing) == expected, "\(text)")
        }
        #expect(abs((used["hdl"]?.value ?? 0) - 0.9 * 38.67) < 1e-9)
        #expect(throws: ConditionError.self) { try parser.parse("taking ace_inhibitors") }
    }

    /// Staleness counts from the review date, not from the last visit.
    @Test func staleFromTheReviewDate() throws {
        let parser = ConditionParser(pack: pack)
        let condition = try parser.parse("known hdl within 6 months")
        var used: [String: KnownValue] = [:], missing = Set<String>()
        let atVisit = PatientFacts(record: record(), asOf: ClinicalCalendar.day(2024, 3, 1), pack: pack)
        #expect(atVisit.evaluate(condition, pack: pack, used: &used, missing: &missing) == .yes)
        let atLastEncounter = PatientFacts(record: record(), asOf: try ReviewPoint.resolve(record()).date, pack: pack)
        #expect(atLastEncounter.indexDate == ClinicalCalendar.day(2024, 9, 1))
        #expect(atLastEncounter.evaluate(condition, pack: pack, used: &used, missing: &missing) == .no)
    }
}
