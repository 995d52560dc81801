import Foundation
import Testing
import TestSupport

/// recommend, attention, explain and guidelines from the shell, end to end.
@Suite(.serialized) struct ModelViewsTests {
    /// A pregnant patient with eGFR 24 and an HbA1c of 10.4 %, imported from FHIR.
    static func vignette() -> String {
        TestSupport.write(TestSupport.bundle([
            #"{"resourceType": "Patient", "id": "vig-1", "gender": "female", "birthDate": "1990-03-01"}"#,
            #"{"resourceType": "Condition", "subject": {"reference": "Patient/vig-1"}, "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006", "display": "Diabetes"}]}, "onsetDateTime": "2015-01-01"}"#,
            #"{"resourceType": "Condition", "subject": {"reference": "Patient/vig-1"}, "code": {"coding": [{"system": "http://snomed.info/sct", "code": "77386006", "display": "Pregnancy"}]}, "onsetDateTime": "2023-11-01"}"#,
            #"{"resourceType": "Encounter", "id": "e1", "subject": {"reference": "Patient/vig-1"}, "period": {"start": "2023-06-01T09:00:00Z"}}"#,
            #"{"resourceType": "Encounter", "id": "e2", "subject": {"reference": "Patient/vig-1"}, "period": {"start": "2024-01-10T09:00:00Z"}}"#,
            #"{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/vig-1"}, "encounter": {"reference": "Encounter/e1"}, "effectiveDateTime": "2023-06-01T09:00:00Z", "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}, "valueQuantity": {"value": 8.9, "unit": "%"}}"#,
            #"{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/vig-1"}, "encounter": {"reference": "Encounter/e2"}, "effectiveDateTime": "2024-01-10T09:00:00Z", "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}, "valueQuantity": {"value": 10.4, "unit": "%"}}"#,
            #"{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/vig-1"}, "encounter": {"reference": "Encounter/e2"}, "effectiveDateTime": "2024-01-10T09:00:00Z", "code": {"coding": [{"system": "http://loinc.org", "code": "33914-3"}]}, "valueQuantity": {"value": 24, "unit": "mL/min/{1.73_m2}"}}"#,
        ]), name: "vignette.json")
    }

    @Test func recommendFlagsContraindicationsWhateverTheProbability() throws {
        let rounds = RoundsProcess()
        #expect(try rounds.run(["import", Self.vignette()]).status == 0)
        let r = try rounds.run(["recommend", "--patient", "vig-1", "--no-demo"])
        #expect(r.status == 0, "\(r.stderr)")
        // The option rows (rank, name, bar, probability, standing), not a notice that names an option.
        let rows = r.stdout.split(separator: "\n").filter { $0.range(of: #"^\s*\d+  "#, options: .regularExpression) != nil }
        for name in ["SGLT2 inhibitor", "GLP-1 receptor agonist", "Thiazolidinedione", "DPP-4 inhibitor", "Sulfonylurea", "Metformin"] {
            let line = rows.first { $0.contains(name) }
            #expect(line?.contains("CONTRAINDICATED") == true, "\(name): \(line ?? "missing")")
        }
        #expect(rows.first { $0.contains("Basal insulin") }?.contains("indicated") == true)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try rounds.run(["recommend", "--patient", "vig-1", "--no-demo", "--json"]).stdout.utf8)) as? [String: Any])
        let options = try #require(json["options"] as? [[String: Any]])
        #expect(abs(options.compactMap { $0["probability"] as? Double }.reduce(0, +) - 1) < 1e-5)
        #expect((json["modelSha256"] as? String)?.count == 64)
        let g = try rounds.run(["guidelines", "--patient", "vig-1", "--no-demo"])
        #expect(g.stdout.contains("kdigo-metformin-stop-egfr-30") && g.stdout.contains("24 mL/min/1.73m2") && g.stdout.contains("2024-01-10"))
        #expect(g.stdout.contains("HbA1c above 10 %"))
    }

    @Test func explainGivesTheContractFormAndCompleteness() throws {
        let rounds = RoundsProcess()
        _ = try rounds.run(["cohort", "generate", "--n", "20"])
        let r = try rounds.run(["explain", "--patient", "demo-00005", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let e = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["model_sha256", "features", "treatments", "input", "probabilities", "attention", "ig"] { #expect(e[key] != nil, "\(key) missing") }
        let ig = try #require(e["ig"] as? [String: Any])
        #expect(ig["method"] as? String == "gausslegendre" && ig["steps"] as? Int == 50 && ig["baseline"] as? String == "zeros")
        let attributions = (ig["attributions"] as? [[Double]])?.flatMap { $0 } ?? []
        let probabilities = (e["probabilities"] as? [Double]) ?? []
        let input = (e["input"] as? [[Double]]) ?? []
        #expect(attributions.count == input.count * ((e["features"] as? [String])?.count ?? 0))
        // The contract form's fixed 50 steps leave a small gap (2 % of the top probability for this
        // patient with the shipped model); `--steps auto` closes it to 1 % (ShippedModelCompletenessTests).
        #expect(abs(ig["delta"] as? Double ?? 1) < 0.03 * max(probabilities.max() ?? 1, 1e-3))
        let attention = (e["attention"] as? [Double]) ?? []
        #expect(attention.count == input.count && abs(attention.reduce(0, +) - 1) < 1e-5)
        let text = try rounds.run(["explain", "sglt2", "--patient", "demo-00005", "--steps", "auto", "--method", "riemann_middle"])
        #expect(text.stdout.contains("Explanation of SGLT2 inhibitor") && text.stdout.contains("Completeness:") && text.stdout.contains("riemann_middle"))
        let typo = try rounds.run(["explain", "sglt3", "--patient", "demo-00005"])
        #expect(typo.status != 0 && typo.stderr.contains("Did you mean 'sglt2'"))
        let att = try rounds.run(["attention", "--patient", "demo-00005"])
        #expect(att.stdout.contains("Weights sum to 1.0000") && att.stdout.contains("heat strip"))
    }

    /// The uncertainty note follows the documented threshold, in words and in JSON, and the
    /// shipped RETAIN model's attention view carries each visit's contribution.
    @Test func uncertaintyIsCalledByTheThresholdAndContributionsAreShown() throws {
        let rounds = RoundsProcess()
        _ = try rounds.run(["cohort", "generate", "--n", "40"])
        for i in 1...40 {
            let id = String(format: "demo-%05d", i)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(try rounds.run(["recommend", "--patient", id, "--json"]).stdout.utf8)) as? [String: Any])
            let top = try #require((json["options"] as? [[String: Any]])?.first?["probability"] as? Double)
            let threshold = try #require(json["uncertaintyThreshold"] as? Double)
            let uncertain = try #require(json["uncertain"] as? Bool)
            #expect(threshold == 0.5 && uncertain == (top < threshold), "\(id): top \(top)")
            let text = try rounds.run(["recommend", "--patient", id]).stdout
            #expect(text.contains("The model is uncertain") == uncertain, "\(id)")
        }
        let att = try #require(try JSONSerialization.jsonObject(with: Data(try rounds.run(["attention", "--patient", "demo-00005", "--json"]).stdout.utf8)) as? [String: Any])
        let visits = try #require(att["visits"] as? [[String: Any]])
        #expect(!visits.isEmpty && visits.allSatisfy { $0["contribution"] is Double })
        #expect(try rounds.run(["attention", "--patient", "demo-00005"]).stdout.contains("CONTRIBUTION"))
    }

    @Test func whatIfEditsACopyAndShowsWhatMoved() throws {
        let rounds = RoundsProcess()
        #expect(try rounds.run(["import", Self.vignette()]).status == 0)
        let before = try rounds.run(["summary", "--patient", "vig-1", "--no-demo", "--json"]).stdout
        let r = try rounds.run(["whatif", "--patient", "vig-1", "--no-demo", "egfr=75", "pregnancy=no"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("AS RECORDED") && r.stdout.contains("WHAT IF") && r.stdout.contains("stored record is unchanged"))
        #expect(r.stdout.contains("no longer fires: kdigo-metformin-stop-egfr-30"))
        #expect(r.stdout.contains("no longer fires: ada-pregnancy-non-insulin"))
        #expect(try rounds.run(["summary", "--patient", "vig-1", "--no-demo", "--json"]).stdout == before)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try rounds.run(["whatif", "--patient", "vig-1", "--no-demo", "--json", "egfr=75"]).stdout.utf8)) as? [String: Any])
        #expect((json["original"] as? [String: Any])?["statuses"] != nil && (json["edited"] as? [String: Any])?["top"] != nil)
        let impossible = try rounds.run(["whatif", "--patient", "vig-1", "--no-demo", "egfr=900"])
        #expect(impossible.status != 0 && impossible.stderr.contains("outside the plausible range"))
        let unknown = try rounds.run(["whatif", "--patient", "vig-1", "--no-demo", "egrf=20"])
        #expect(unknown.status != 0 && unknown.stderr.contains("Did you mean 'egfr'"))
        let malformed = try rounds.run(["whatif", "--patient", "vig-1", "--no-demo", "egfr"])
        #expect(malformed.status != 0 && malformed.stderr.contains("is not FEATURE=VALUE"))
    }

    @Test func guidelinesLint() throws {
        let ok = try RoundsProcess().run(["guidelines", "lint"])
        #expect(ok.status == 0 && ok.stdout.contains("no problems"), "\(ok.stderr)")
        let dir = TestSupport.temporaryDirectory()
        try FileManager.default.copyItem(at: TestSupport.knowledgeDirectory.appendingPathComponent("features.yaml"), to: dir.appendingPathComponent("features.yaml"))
        try FileManager.default.copyItem(at: TestSupport.knowledgeDirectory.appendingPathComponent("treatments.yaml"), to: dir.appendingPathComponent("treatments.yaml"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("guidelines"), withIntermediateDirectories: true)
        try "rules:\n  - id: x\n    title: X\n    kind: caution\n    severity: warning\n    applies_to: [metformin]\n    when: egfr << 30\n    message: m\n    references: [{organization: A, document: B}]\n"
            .write(to: dir.appendingPathComponent("guidelines/broken.yaml"), atomically: true, encoding: .utf8)
        let bad = try RoundsProcess().run(["guidelines", "lint"], environment: ["ROUNDS_KNOWLEDGE": dir.path])
        #expect(bad.status == 1 && bad.stderr.contains("broken.yaml:7: x: when:"))
        // A reference with a number nobody checked, or a placeholder, fails the lint too.
        try "rules:\n  - id: y\n    title: Y\n    kind: caution\n    severity: warning\n    applies_to: [metformin]\n    when: egfr < 30\n    message: m\n    references:\n      - {organization: ADA, document: S, section: \"6. Glycemic Goals\", recommendation: \"6.x\"}\n      - {organization: ADA, document: S, section: \"9\", recommendation: \"9.10\", grade: A}\n"
            .write(to: dir.appendingPathComponent("guidelines/broken.yaml"), atomically: true, encoding: .utf8)
        let unchecked = try RoundsProcess().run(["guidelines", "lint"], environment: ["ROUNDS_KNOWLEDGE": dir.path])
        #expect(unchecked.status == 1 && unchecked.stderr.contains("broken.yaml:10: y: reference: 'recommendation' holds a placeholder ('6.x')"), "\(unchecked.stderr)")
        #expect(unchecked.stderr.contains("broken.yaml:11: y: reference: recommendation 9.10 without 'checked_in'"), "\(unchecked.stderr)")
        #expect(ok.stdout.contains("each with where it was checked"))
    }
}
