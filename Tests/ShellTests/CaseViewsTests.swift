import Foundation
import Testing
import TestSupport

/// The hand-written cases of Sessions/cases through the shell: what a clinician sees for each.
@Suite(.serialized) struct CaseViewsTests {
    static let cases = TestSupport.repoRoot.appendingPathComponent("Sessions/cases")
    static func path(_ name: String) -> String { cases.appendingPathComponent(name).path }

    /// One store with every case imported (the folder, reference bundle included: exit 0).
    static func store() throws -> RoundsProcess {
        let rounds = RoundsProcess()
        let r = try rounds.run(["import", cases.path])
        precondition(r.status == 0, "import of the cases: \(r.stdout) \(r.stderr)")
        return rounds
    }

    @Test func importingTheCasesFolderExitsZeroAndSaysWhatItRead() throws {
        let rounds = RoundsProcess()
        let r = try rounds.run(["import", Self.cases.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Import: 9 of 9 file(s) read") && r.stdout.contains("Patients: 8 new"))
        #expect(r.stdout.contains("Reference data: 1 file(s)"))
        #expect(r.stdout.contains("hba1c 2.8 % on 2024-09-02 is implausible") && r.stdout.contains("implausible-hba1c.json:"))
        #expect(r.stdout.contains("without a subject: attached to the only patient"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try rounds.run(["import", Self.path("organisations-only.json"), "--json"]).stdout.utf8)) as? [String: Any])
        #expect(json["referenceFiles"] as? Int == 1)
        // The list shows type 2 diabetes where it is coded, as of the last encounter.
        let list = try rounds.run(["patients", "--no-demo", "--condition", "type2_diabetes", "--limit", "0"])
        #expect(list.status == 0 && list.stdout.contains("case-adult-type2") && list.stdout.contains("2025-01-20") && !list.stdout.contains("case-adolescent"), "\(list.stdout) \(list.stderr)")
    }

    @Test func everyFixtureAndCaseImportsFromTheShell() throws {
        let rounds = RoundsProcess()
        let r = try rounds.run(["import", TestSupport.fixtures.path, Self.cases.path])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("Patients: 16 new"))
    }

    @Test func theAdultWithTypeTwoDiabetesIsReviewedAtHerLastEncounter() throws {
        let rounds = try Self.store()
        let s = try rounds.run(["summary", "--patient", "case-adult-type2"])
        #expect(s.status == 0, "\(s.stderr)")
        for text in ["as of 2025-01-20 (last encounter)", "Type 2 diabetes", "Diabetic neuropathy", "other therapy: ACE inhibitor", "other therapy: Statin",
                     "HDL cholesterol 42.0 mg/dL"] { #expect(s.stdout.contains(text), "summary lacks \(text)") }
        let g = try rounds.run(["guidelines", "--patient", "case-adult-type2"])
        // Her eGFR (2023-11-13) is stale at the review date: the checks ask for a recheck.
        #expect(g.stdout.contains("as of 2025-01-20") && g.stdout.contains("eGFR unknown"), "\(g.stdout)")
        let earlier = try rounds.run(["guidelines", "--patient", "case-adult-type2", "--as-of", "2023-11-20"])
        #expect(earlier.stdout.contains("as of 2023-11-20 (as of the date given)") && !earlier.stdout.contains("eGFR unknown"), "\(earlier.stdout)")
        let r = try rounds.run(["recommend", "--patient", "case-adult-type2"])
        #expect(r.stdout.contains("trained on a synthetic cohort") && !r.stdout.contains("OUTSIDE THE MODEL'S POPULATION"))
        #expect(r.stdout.contains("Every input lies within the range the model was trained on") || r.stdout.contains("Inputs outside the range"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try rounds.run(["recommend", "--patient", "case-adult-type2", "--json"]).stdout.utf8)) as? [String: Any])
        let notice = try #require(json["notice"] as? [String: Any])
        #expect(notice["reviewDate"] as? String == "2025-01-20" && notice["modelVisit"] as? Int == 4 && notice["trainingRangeKnown"] as? Bool == true)
        #expect((notice["modelTrainedOn"] as? String)?.contains("synthetic") == true && (notice["outsidePopulation"] as? [String])?.isEmpty == true)
    }

    @Test func anInputOutsideTheTrainingRangeIsNamed() throws {
        let rounds = try Self.store()
        // The deceased man's last eGFR, 33, is inside; his age, 79, too. An eGFR of 180 is not.
        let w = try rounds.run(["whatif", "egfr=180", "--patient", "case-deceased"])
        #expect(w.status == 0, "\(w.stderr)")
        #expect(w.stdout.contains("Inputs outside the range the model was trained on") && w.stdout.contains("eGFR 180 mL/min/1.73m2"), "\(w.stdout)")
        let e = try #require(try JSONSerialization.jsonObject(with: Data(try rounds.run(["explain", "--patient", "case-deceased", "--json", "--steps", "8"]).stdout.utf8)) as? [String: Any])
        #expect((e["notice"] as? [String: Any])?["deceased"] as? String == "2024-03-17")
    }

    @Test func aDeceasedPatientIsSaidToHaveDiedInEveryView() throws {
        let rounds = try Self.store()
        for view in [["recommend"], ["attention"], ["explain", "--steps", "8"], ["guidelines"], ["summary"]] {
            let r = try rounds.run(view + ["--patient", "case-deceased"])
            #expect(r.status == 0 && r.stdout.contains("Died 2024-03-17"), "\(view): \(r.stdout) \(r.stderr)")
        }
        let r = try rounds.run(["recommend", "--patient", "case-deceased"])
        #expect(r.stdout.contains("as of 2024-03-15 (last encounter before death)"))
        let after = try rounds.run(["recommend", "--patient", "case-deceased", "--as-of", "2024-04-01"])
        #expect(after.status != 0 && after.stderr.contains("died on 2024-03-17"))
    }

    @Test(arguments: [("case-adolescent", "aged 16"), ("case-pregnant", "pregnancy"), ("case-type1", "type 1 diabetes")])
    func outsideThePopulationTheModelIsCaveatedAndDecisionsNeedConfirm(_ id: String, _ reason: String) throws {
        let rounds = try Self.store()
        let r = try rounds.run(["recommend", "--patient", id])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("OUTSIDE THE MODEL'S POPULATION") && r.stdout.contains("does not apply to this patient") && r.stdout.contains(reason), "\(r.stdout)")
        let g = try rounds.run(["guidelines", "--patient", id])
        #expect(g.status == 0)      // the checks still apply
        let refused = try rounds.run(["accept", "--patient", id, "--clinician", "dr-test"])
        #expect(refused.status != 0 && refused.stderr.contains("outside the population the model was made for") && refused.stderr.contains("Nothing was recorded"))
        #expect(try rounds.run(["history", "--patient", id]).stdout.contains("No decisions recorded"))
        let confirmed = try rounds.run(["accept", "--patient", id, "--clinician", "dr-test", "--confirm", "--note", "teaching"])
        #expect(confirmed.status == 0 && confirmed.stdout.contains("Recorded"), "\(confirmed.stderr)")
        let audit = try rounds.run(["audit", "show", "--patient", id, "--last", "1"])
        #expect(audit.stdout.contains("decision.recorded"))
    }

    @Test func loadAsOfSetsTheReviewDateOfTheViewsThatFollow() throws {
        let rounds = try Self.store()
        let script = TestSupport.write("load case-adult-type2 --as-of 2023-06-01\nexpect reviewed as of 2023-06-01\nrecommend\nexpect as of 2023-06-01 (as of the date given) · model's last visit 3 of 4\nsummary\nexpect as of 2023-06-01\nload case-adult-type2\nrecommend\nexpect as of 2025-01-20\n", name: "asof.rounds")
        let r = try rounds.run(["run", "--check", script])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
    }

    @Test func modelRangesRefusesAnotherCohortAndTrainWritesThem() throws {
        let rounds = RoundsProcess()
        #expect(try rounds.run(["cohort", "generate", "--n", "60", "--seed", "5"]).status == 0)
        let shipped = try rounds.run(["model", "ranges"])
        #expect(shipped.status != 0 && shipped.stderr.contains("its ranges would describe other patients"), "\(shipped.stderr)")
        let out = TestSupport.temporaryDirectory().appendingPathComponent("m.safetensors").path
        #expect(try rounds.run(["train", "--out", out, "--epochs", "1", "--hidden", "8", "--embed", "4", "--attention", "4"]).status == 0)
        let same = try rounds.run(["model", "ranges", "--file", out])
        #expect(same.status == 0 && same.stdout.contains("The file already holds these ranges"), "\(same.stdout) \(same.stderr)")
    }
}
