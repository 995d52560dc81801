import Foundation
import Testing
import TestSupport

/// The standing beside each option, end to end from the shell: an indication and a caution
/// together, an option already taken, a deintensification, in text, JSON and the decision.
@Suite(.serialized) struct StandingViewTests {
    /// A 58-year-old man with heart failure, a myocardial infarction and recurrent hypoglycaemia,
    /// on insulin glargine, glipizide and dulaglutide; HbA1c 7.6 %, eGFR 70.
    static func vignette() -> String {
        func condition(_ code: String, _ display: String) -> String {
            #"{"resourceType": "Condition", "subject": {"reference": "Patient/std-1"}, "code": {"coding": [{"system": "http://snomed.info/sct", "code": "\#(code)", "display": "\#(display)"}]}, "onsetDateTime": "2020-01-01"}"#
        }
        func medication(_ code: String, _ display: String) -> String {
            #"{"resourceType": "MedicationRequest", "status": "active", "subject": {"reference": "Patient/std-1"}, "authoredOn": "2022-01-01", "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "\#(code)", "display": "\#(display)"}]}}"#
        }
        func lab(_ code: String, _ value: Double, _ unit: String, _ encounter: String, _ date: String) -> String {
            #"{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/std-1"}, "encounter": {"reference": "Encounter/\#(encounter)"}, "effectiveDateTime": "\#(date)T09:00:00Z", "code": {"coding": [{"system": "http://loinc.org", "code": "\#(code)"}]}, "valueQuantity": {"value": \#(value), "unit": "\#(unit)"}}"#
        }
        return TestSupport.write(TestSupport.bundle([
            #"{"resourceType": "Patient", "id": "std-1", "gender": "male", "birthDate": "1966-02-01"}"#,
            condition("44054006", "Diabetes"), condition("88805009", "Chronic congestive heart failure"),
            condition("22298006", "Myocardial infarction"), condition("302866003", "Hypoglycemia"),
            medication("274783", "insulin glargine 100 UNT/ML"), medication("4821", "glipizide 5 MG"), medication("1551291", "dulaglutide 1.5 MG/0.5ML"),
            #"{"resourceType": "Encounter", "id": "e1", "subject": {"reference": "Patient/std-1"}, "period": {"start": "2023-09-01T09:00:00Z"}}"#,
            #"{"resourceType": "Encounter", "id": "e2", "subject": {"reference": "Patient/std-1"}, "period": {"start": "2024-03-01T09:00:00Z"}}"#,
            lab("4548-4", 7.9, "%", "e1", "2023-09-01"), lab("4548-4", 7.6, "%", "e2", "2024-03-01"),
            lab("33914-3", 70, "mL/min/{1.73_m2}", "e2", "2024-03-01"), lab("29463-7", 92, "kg", "e1", "2023-09-01"), lab("29463-7", 91, "kg", "e2", "2024-03-01"),
        ]), name: "standing.json")
    }

    func line(_ text: String, _ name: String) -> String { text.split(separator: "\n").first { $0.contains(name) }.map(String.init) ?? "" }

    @Test func recommendAndGuidelinesShowBothSidesTakingAndDeintensify() throws {
        let rounds = RoundsProcess()
        #expect(try rounds.run(["import", Self.vignette()]).status == 0)
        let r = try rounds.run(["recommend", "--patient", "std-1", "--no-demo"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(line(r.stdout, "SGLT2 inhibitor").hasSuffix("✓ indicated · ! caution"), "\(r.stdout)")
        #expect(line(r.stdout, "GLP-1 receptor agonist").hasSuffix("= already taking"), "\(r.stdout)")
        #expect(line(r.stdout, "Sulfonylurea").contains("= already taking · ↓ deintensify · ! caution"))
        #expect(line(r.stdout, "Thiazolidinedione").hasSuffix("✖ CONTRAINDICATED"))
        #expect(r.stdout.contains("↓ Deintensify Sulfonylurea (not a model option)") && r.stdout.contains("↓ Deintensify Basal insulin (not a model option)"))

        let g = try rounds.run(["guidelines", "--patient", "std-1", "--no-demo"])
        #expect(g.stdout.contains("SGLT2 inhibitor  ✓ indicated · ! caution") && g.stdout.contains("GLP-1 receptor agonist  = already taking"))
        #expect(g.stdout.contains("Deintensify  (reduce or stop a drug being taken") && g.stdout.contains("ada-deintensify-sulfonylurea-hypoglycaemia"))
        #expect(!g.stdout.contains("unverified"))

        let json = try #require(try JSONSerialization.jsonObject(with: Data(try rounds.run(["recommend", "--patient", "std-1", "--no-demo", "--json"]).stdout.utf8)) as? [String: Any])
        let options = try #require(json["options"] as? [[String: Any]])
        let sglt2 = try #require(options.first { $0["treatment"] as? String == "sglt2" })
        #expect(sglt2["status"] as? String == "caution" && sglt2["standingLabel"] as? String == "indicated · caution")
        let standing = try #require(sglt2["standing"] as? [String: Any])
        #expect((standing["indication"] as? [String: Any])?["status"] as? String == "indicated" && standing["taking"] as? Bool == false)
        #expect(options.first { $0["treatment"] as? String == "glp1" }?["standingLabel"] as? String == "already taking")
        #expect((json["deintensify"] as? [[String: Any]])?.count == 2)

        let e = try rounds.run(["explain", "sglt2", "--patient", "std-1", "--no-demo"])
        #expect(e.stdout.contains("Guideline status: ✓ indicated · ! caution"), "\(e.stdout)")
        let w = try rounds.run(["whatif", "heart_failure=no", "--patient", "std-1", "--no-demo"])
        #expect(line(w.stdout, "Thiazolidinedione").contains("✖ CONTRAINDICATED"), "\(w.stdout)")
    }

    @Test func theDecisionRecordsTheStandingsShownBesideTheOldStatuses() throws {
        let rounds = RoundsProcess()
        #expect(try rounds.run(["import", Self.vignette()]).status == 0)
        let ok = try rounds.run(["override", "sglt2", "--reason", "clinical-judgement", "--patient", "std-1", "--no-demo", "--clinician", "dr-lee", "--json"])
        if ok.status != 0 {   // the model's own choice was the SGLT2 inhibitor
            #expect(ok.stderr.contains("`accept` records taking it"), "\(ok.stderr)")
        }
        let d = try #require(try JSONSerialization.jsonObject(with: Data((ok.status == 0 ? ok : try rounds.run(["accept", "--patient", "std-1", "--no-demo", "--clinician", "dr-lee", "--json"])).stdout.utf8)) as? [String: Any])
        let statuses = try #require(d["guidelineStatuses"] as? [String: String])
        let standings = try #require(d["guidelineStandings"] as? [String: [String: Any]])
        #expect(statuses["sglt2"] == "caution" && standings["sglt2"]?["label"] as? String == "indicated · caution")
        #expect(standings["glp1"]?["taking"] as? Bool == true && standings["glp1"]?["label"] as? String == "already taking")
        #expect(standings["sulfonylurea"]?["deintensify"] as? String == "ada-deintensify-sulfonylurea-hypoglycaemia")
        #expect(statuses["tzd"] == "contraindicated" && standings["tzd"]?["against"] as? String == "contraindicated")
        let v = try rounds.run(["audit", "verify"])
        #expect(v.status == 0, "\(v.stdout)")
    }
}
