import Foundation
import Testing
import Store
import TestSupport

@Suite(.serialized) struct LearningLoopTests {
    @Test func learningFromNoDecisionsSaysThereIsTooLittle() throws {
        let rounds = RoundsProcess(demo: true)
        let r = try rounds.run(["learn"])
        #expect(r.status != 0 && r.stderr.contains("too little to learn from: 0 usable decisions"), "\(r.stderr)")
        // Three decisions by one clinician are still too few.
        for id in ["demo-00001", "demo-00002", "demo-00003"] { #expect(try rounds.run(["accept", "--patient", id, "--clinician", "dr-a"]).status == 0) }
        let three = try rounds.run(["learn"])
        #expect(three.status != 0 && three.stderr.contains("too little to learn from: 3 usable decisions from 3 patients"), "\(three.stderr)")
        #expect(try RoundsStore(path: rounds.db).modelVersions().isEmpty)
    }

    /// A small version of the loop: from a weakened model, two rounds of decisions and learning;
    /// the model's agreement with the simulator's best option on a fixed panel of unseen
    /// patients must rise beyond noise, and every version and activation is in the audit log.
    @Test func theSimulatedLoopImprovesAWeakenedModel() throws {
        let dir = TestSupport.temporaryDirectory("rounds-simulate")
        let sim = dir.appendingPathComponent("sim.sqlite").path
        let rounds = RoundsProcess()
        let r = try rounds.run(["simulate", "--decisions", "400", "--learn-every", "200", "--panel", "300", "--cohort", "5000", "--sim-db", sim, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        struct Block: Decodable { var panelAgreement: Double; var panelUtility: Double; var learned: String? }
        struct View: Decodable { var blocks: [Block]; var finalPanelAgreement: Double; var finalPanelUtility: Double; var synthetic: Bool }
        let v = try JSONDecoder().decode(View.self, from: Data(r.stdout.utf8))
        #expect(v.synthetic && v.blocks.count == 2)
        let start = v.blocks[0]
        // The panel is the same 300 patients throughout, so the difference is paired. On the
        // first cohort the weakened model started near 0.37 and reached about 0.42; on
        // rounds-cohort-2 (outcome noise in the labels, 72 input columns for 60 patients) it
        // starts near 0.31 and reaches about 0.32, its simulated utility rising with it.
        #expect(v.finalPanelAgreement > start.panelAgreement, "agreement \(start.panelAgreement) → \(v.finalPanelAgreement)")
        #expect(v.finalPanelUtility > start.panelUtility, "utility \(start.panelUtility) → \(v.finalPanelUtility)")
        #expect(v.blocks[0].learned?.contains("in use") == true, "\(v.blocks[0].learned ?? "")")

        let store = try RoundsStore(path: sim)
        let versions = try store.modelVersions()
        #expect(versions.count >= 2 && versions.filter(\.active).count == 1)
        let learned = try #require(versions.last)
        #expect(learned.parentSha256 == versions[versions.count - 2].sha256)
        #expect(learned.lineage.contains("\"decisions\"") && learned.lineage.contains("\"report\""))
        let log = try store.auditEntries(last: 100_000)
        #expect(log.filter { $0.event == .modelActivated }.count >= 2)
        #expect(try store.verifyAudit().ok)
        #expect(try store.decisionCount() == 400)

        // Roll back to the pack's default, and refuse an unknown version.
        let env = ["ROUNDS_DB": sim]
        let list = try rounds.run(["model", "list"], environment: env)
        #expect(list.stdout.contains("default") && list.stdout.contains("*"))
        let back = try rounds.run(["model", "use", "default"], environment: env)
        #expect(back.status == 0 && back.stdout.contains("In use: rounds-"), "\(back.stdout)\(back.stderr)")
        #expect(try store.activeModel() == nil)
        let unknown = try rounds.run(["model", "use", "99"], environment: env)
        #expect(unknown.status != 0 && unknown.stderr.contains("no model version 99"))
    }
}
