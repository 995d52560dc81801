import Foundation
import Testing
@testable import Patients
import TestSupport

@Suite struct KnowledgePackTests {
    let pack = TestSupport.pack

    @Test func everyMeasuredFeatureHasAMissingIndicatorColumn() {
        for def in pack.features.measured {
            #expect(def.missingIndicator, "\(def.id) has no missing-value indicator")
            let i = pack.features.columns.firstIndex(of: def.id)!
            #expect(pack.features.columns[i + 1] == def.id + "_missing")
        }
        #expect(Set(pack.features.columns).count == pack.features.columns.count)
    }

    @Test func theEightTreatmentOptionsAreDefined() {
        #expect(pack.treatments.ids == ["metformin", "sglt2", "glp1", "dpp4", "sulfonylurea", "tzd", "basal_insulin", "no_change"])
    }

    /// Unit conversions against hand-computed values.
    @Test(arguments: [(String, Double, String, Double)]([
        ("4548-4", 53.0, "mmol/mol", 0.09148 * 53 + 2.152),   // IFCC 53 mmol/mol ≈ 7.0 %
        ("4548-4", 7.0, "%", 7.0),
        ("2160-0", 88.4, "umol/L", 88.4 * 0.011312),           // ≈ 1.0 mg/dL
        ("2160-0", 88.4, "µmol/L", 88.4 * 0.011312),
        ("2345-7", 5.5, "mmol/L", 5.5 * 18.016),               // ≈ 99 mg/dL
        ("33914-3", 45.0, "mL/min/{1.73_m2}", 45.0),
        ("33914-3", 45.0, "mL/min", 45.0),
        ("29463-7", 200.0, "[lb_av]", 200 * 0.45359237),
        ("8480-6", 120.0, "mm[Hg]", 120.0),
        ("9318-7", 3.4, "mg/mmol", 3.4 * 8.84),
    ]))
    func convertsUnits(code: String, value: Double, unit: String, expected: Double) throws {
        guard case .value(_, let v) = pack.features.measure(code: code, value: value, unit: unit) else {
            Issue.record("\(code) \(value) \(unit) was not converted"); return
        }
        #expect(abs(v - expected) < 1e-9)
    }

    @Test func unknownUnitsAndImplausibleValuesAreReported() {
        #expect(pack.features.measure(code: "4548-4", value: 7, unit: "g/L") == .unknownUnit(feature: "hba1c", unit: "g/L"))
        if case .outOfRange(let f, _, _) = pack.features.measure(code: "33914-3", value: 900, unit: "mL/min") { #expect(f == "egfr") } else { Issue.record("eGFR 900 accepted") }
        #expect(pack.features.measure(code: "72514-3", value: 3, unit: "{score}") == .unmapped)
    }

    @Test func prescriptionsMapOntoOptions() {
        let t = pack.treatments
        #expect(t.map(code: "6809", display: "anything") == MedicationMapping(treatment: "metformin", related: false, matchedBy: .code))
        #expect(t.map(code: "860975", display: "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet")?.treatment == "metformin")
        // Premixed insulin is insulin therapy, though not the basal-insulin option itself.
        let premixed = t.map(code: "106892", display: "insulin human, isophane 70 UNT/ML / Regular Insulin, Human 30 UNT/ML Injectable Suspension [Humulin]")
        #expect(premixed == MedicationMapping(treatment: "basal_insulin", related: true, matchedBy: .name))
        #expect(t.map(code: "0", display: "Insulin Glargine 100 UNT/ML Pen Injector")?.related == false)
        #expect(t.map(code: "0", display: "Ozempic 1 MG/DOSE")?.treatment == "glp1")
        #expect(t.map(code: "308136", display: "amLODIPine 2.5 MG Oral Tablet") == nil)
        #expect(t.map(code: "314076", display: "lisinopril 10 MG Oral Tablet") == nil)
        // Whole words only: "NPH" inside another word is no insulin.
        #expect(t.map(code: "0", display: "Dolphinphine 5 MG") == nil)
    }

    @Test func conditionsMapByCodeThenByName() {
        let f = pack.features
        #expect(f.conditionFeature(code: "38341003", display: "Hypertension")?.0.id == "hypertension")
        #expect(f.conditionFeature(code: "59621000", display: "Essential hypertension (disorder)")?.0.id == "hypertension")
        #expect(f.conditionFeature(code: "88805009", display: "Chronic congestive heart failure (disorder)")?.0.id == "heart_failure")
        let byName = f.conditionFeature(code: "999", display: "Heart\u{200B} Failure with reduced EF")
        #expect(byName?.0.id == "heart_failure" && byName?.1 == .name)
        #expect(f.conditionFeature(code: "44054006", display: "Diabetes") == nil)
    }

    @Test func brokenPackFilesNameTheFileAndThePlace() throws {
        let dir = TestSupport.temporaryDirectory()
        let treatments = try String(contentsOf: TestSupport.knowledgeDirectory.appendingPathComponent("treatments.yaml"), encoding: .utf8)
        try treatments.write(to: dir.appendingPathComponent("treatments.yaml"), atomically: true, encoding: .utf8)
        let bad = """
        version: 1
        features:
          - {id: hba1c, name: HbA1c, kind: lab, loinc: ["4548-4"], unit: "%"}
          - {id: egfr, name: eGFR, kind: lab, loinc: ["33914-3"]}
        """
        try bad.write(to: dir.appendingPathComponent("features.yaml"), atomically: true, encoding: .utf8)
        let error = #expect(throws: KnowledgeError.self) { try KnowledgePack(directory: dir) }
        #expect(error?.description.contains("features.yaml") == true)
        #expect(error?.description.contains("features[1]") == true)
        #expect(error?.description.contains("needs a unit") == true)

        try "version: 1\nfeatures:\n  - {id: x, name: X, kind: medication, treatment: nosuch}\n".write(to: dir.appendingPathComponent("features.yaml"), atomically: true, encoding: .utf8)
        let error2 = #expect(throws: KnowledgeError.self) { try KnowledgePack(directory: dir) }
        #expect(error2?.description.contains("'nosuch'") == true)

        try "version: 1\nfeatures: [oops\n".write(to: dir.appendingPathComponent("features.yaml"), atomically: true, encoding: .utf8)
        #expect(throws: KnowledgeError.self) { try KnowledgePack(directory: dir) }
    }
}
