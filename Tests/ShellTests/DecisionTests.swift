import Foundation
import GRDB
import Testing
import Store
import TestSupport
import TreatmentModel

@Suite(.serialized) struct DecisionTests {
    func decode(_ json: String) throws -> DecisionRecord {
        try JSONDecoder().decode(DecisionRecord.self, from: Data(json.utf8))
    }

    @Test func decisionsNeedASignedInClinicianAndLeaveTheStoreAloneWithout() throws {
        let rounds = RoundsProcess(demo: true)
        let r = try rounds.run(["accept", "--patient", "demo-00029"])
        #expect(r.status != 0 && r.stderr.contains("no clinician signed in"), "\(r.stderr)")
        let h = try rounds.run(["history", "--patient", "demo-00029", "--json"])
        #expect(try JSONDecoder().decode([DecisionRecord].self, from: Data(h.stdout.utf8)).isEmpty)
    }

    @Test func theStoredInputReproducesTheDistributionBitForBit() throws {
        let rounds = RoundsProcess(demo: true)
        let r = try rounds.run(["accept", "--patient", "demo-00038", "--clinician", "dr-lee", "--role", "physician", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let d = try decode(r.stdout)
        #expect(d.clinician == "dr-lee" && d.role == "physician" && d.outcome == .accepted && d.chosen == d.recommended && d.reward == 1)
        #expect(d.displayedOrder.first == d.recommended && Set(d.displayedOrder) == Set(d.treatments))
        let file = try ModelFile.decode(Data(contentsOf: TestSupport.knowledgeDirectory.appendingPathComponent("models/default.safetensors")))
        let pass = file.model.forward(SequenceBatch(sequences: [d.input.values], features: d.input.features))
        #expect(pass.probabilities(0).map(\.bitPattern) == d.probabilities.map(\.bitPattern))
        #expect(d.probabilityOfChosen == d.probabilities[d.treatments.firstIndex(of: d.chosen)!])
        #expect(d.modelSha256.count == 64 && d.knowledgeSha256.count == 64 && !d.sessionId.isEmpty)
    }

    @Test func aShellSessionSignsInOverridesAndListsTheHistory() throws {
        let rounds = RoundsProcess(demo: true)
        let script = """
            signin dr-okafor --as pharmacist
            load demo-00003
            override metformn --reason cost-coverage
            override insulin --reason costs
            override insulin --reason cost-coverage --note "covered by the plan"
            history
            audit show --last 3
            signin --out
            accept
            """
        let r = try rounds.run([], input: script)
        #expect(r.stdout.contains("Signed in as dr-okafor (pharmacist)"))
        #expect(r.stderr.contains("Did you mean 'metformin'?"), "\(r.stderr)")
        #expect(r.stderr.contains("Did you mean 'cost-coverage'?"), "\(r.stderr)")
        #expect(r.stdout.contains("Recorded: Overrode") && r.stdout.contains("Reason: Cost or insurance coverage [cost-coverage]. Note: covered by the plan"))
        #expect(r.stdout.contains("dr-okafor (pharmacist)") && r.stdout.contains("overridden"))
        #expect(r.stdout.contains("decision.recorded"))
        #expect(r.stderr.contains("line 9: error: no clinician signed in"), "\(r.stderr)")
        let history = try rounds.run(["history", "--patient", "demo-00003", "--json"]).stdout
        let decisions = try JSONDecoder().decode([DecisionRecord].self, from: Data(history.utf8))
        #expect(decisions.count == 1 && decisions[0].reason?.systemCode == "too-costly-uncovered" && decisions[0].role == "pharmacist")
    }

    @Test func aContraindicatedChoiceNeedsConfirmationAndANoteAndIsFlagged() throws {
        let rounds = RoundsProcess(demo: true)
        // demo-00029's eGFR is under 30: metformin is contraindicated.
        let refused = try rounds.run(["override", "metformin", "--reason", "clinical-judgement", "--patient", "demo-00029", "--clinician", "dr-lee"])
        #expect(refused.status != 0 && refused.stderr.contains("contraindicated") && refused.stderr.contains("Nothing was recorded"))
        let noNote = try rounds.run(["override", "metformin", "--reason", "clinical-judgement", "--confirm", "--patient", "demo-00029", "--clinician", "dr-lee"])
        #expect(noNote.status != 0)
        let ok = try rounds.run(["override", "metformin", "--reason", "clinical-judgement", "--confirm", "--note", "nephrology agrees, eGFR rising",
                                 "--patient", "demo-00029", "--clinician", "dr-lee", "--json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let d = try decode(ok.stdout)
        #expect(d.contraindicatedChoice && d.guidelineStatuses["metformin"] == "contraindicated" && d.reward == -1)
        #expect(d.guidelineStandings?["metformin"]?.label == "CONTRAINDICATED" && d.guidelineStandings?["metformin"]?.against == "contraindicated")
        let v = try rounds.run(["audit", "verify", "--json"])
        #expect(v.status == 0 && v.stdout.contains("\"decisions\" : 1"), "\(v.stdout)")
        let log = try rounds.run(["audit", "show", "--patient", "demo-00029", "--json"])
        #expect(log.stdout.contains("decision.refused") && log.stdout.contains("contraindicated_choice"))
    }

    /// Kills shells that are recording decisions at random moments, many times: every decision
    /// is whole or absent, and the chain always verifies.
    @Test func killedWhileRecordingNothingIsHalfWritten() throws {
        let rounds = RoundsProcess(demo: true)
        _ = try rounds.run(["patients", "--limit", "1"])  // the demo cohort, before the clock starts
        let lines = (1...400).map { "accept --patient demo-\(String(format: "%05d", $0)) --note kill-test" }.joined(separator: "\n") + "\n"
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            let p = Process()
            p.executableURL = RoundsProcess.executable
            p.arguments = ["--clinician", "dr-kill", "--no-history"]
            var env = ProcessInfo.processInfo.environment
            env["ROUNDS_DB"] = rounds.db; env["ROUNDS_KNOWLEDGE"] = TestSupport.knowledgeDirectory.path; env["NO_COLOR"] = "1"
            p.environment = env
            let input = Pipe()
            p.standardInput = input
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            input.fileHandleForWriting.write(Data(lines.utf8))
            usleep(UInt32.random(in: 50_000...900_000, using: &generator))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let store = try RoundsStore(path: rounds.db)
            let v = try store.verifyAudit()
            #expect(v.ok, "round \(round): \(v.problems)")
            #expect(v.decisions == (try store.decisionCount()), "round \(round)")
        }
        let store = try RoundsStore(path: rounds.db)
        #expect(try store.decisionCount() > 0, "no decision was recorded before the kills: the test proved nothing")
    }

    @Test func twoShellsRecordingAtOnceLoseNothing() throws {
        let rounds = RoundsProcess(demo: true)
        _ = try rounds.run(["patients", "--limit", "1"])
        let group = DispatchGroup()
        nonisolated(unsafe) var statuses: [Int32] = [0, 0]
        for (k, who) in ["dr-a", "dr-b"].enumerated() {
            let script = (1...25).map { "accept --patient demo-\(String(format: "%05d", $0 + 100 * k))" }.joined(separator: "\n")
            group.enter()
            Thread {
                statuses[k] = (try? rounds.run(["--clinician", who, "--no-history"], input: script).status) ?? -1
                group.leave()
            }.start()
        }
        group.wait()
        #expect(statuses == [0, 0])
        let store = try RoundsStore(path: rounds.db)
        #expect(try store.decisionCount() == 50)
        let v = try store.verifyAudit()
        #expect(v.ok && v.decisions == 50, "\(v.problems)")
    }

    @Test func verifyAndExportFromTheCommandLine() throws {
        let rounds = RoundsProcess(demo: true)
        #expect(try rounds.run(["accept", "--patient", "demo-00066", "--clinician", "dr-lee"]).status == 0)
        let dir = TestSupport.temporaryDirectory("rounds-cli-export")
        for format in ["jsonl", "csv", "fhir", "cds-hooks"] {
            let out = dir.appendingPathComponent("a.\(format)").path
            let r = try rounds.run(["audit", "export", "--format", format, "--pseudonymize", "--out", out])
            #expect(r.status == 0, "\(r.stderr)")
            let text = try String(contentsOfFile: out, encoding: .utf8)
            #expect(!text.contains("demo-00066") && !text.contains("dr-lee"), "\(format)")
        }
        let plain = dir.appendingPathComponent("plain.jsonl").path
        #expect(try rounds.run(["audit", "export", "--out", plain]).status == 0)
        let ok = try rounds.run(["audit", "verify", "--file", plain])
        #expect(ok.status == 0 && ok.stdout.contains("intact"), "\(ok.stdout)\(ok.stderr)")
        let bad = try rounds.run(["audit", "export", "--format", "xml", "--out", plain])
        #expect(bad.status != 0 && bad.stderr.contains("unknown format 'xml'"))
        // Someone edits the store behind Rounds' back.
        try DatabaseQueue(path: rounds.db).write { try $0.execute(sql: "UPDATE audit SET patient_id = 'demo-00001' WHERE seq = 2") }
        let caught = try rounds.run(["audit", "verify"])
        #expect(caught.status == 1 && caught.stdout.contains("entry #2") && caught.stdout.contains("NOT intact"), "\(caught.stdout)")
    }
}
