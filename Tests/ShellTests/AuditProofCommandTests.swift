import Foundation
import GRDB
import Testing
import Store
import TestSupport

/// Third-party verification from the shell, the way README describes it: the site gives out
/// its public key, an export and a proof; the auditor checks them with nothing else.
@Suite(.serialized) struct AuditProofCommandTests {
    func checkpointCount(_ db: String) throws -> Int {
        try DatabaseQueue(path: db).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_checkpoint") ?? 0 }
    }

    @Test func anAuditorChecksAnExportAndAProofWithThePublicKeyOnly() throws {
        let rounds = RoundsProcess(demo: true)
        let dir = TestSupport.temporaryDirectory("rounds-auditor")
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let before = try checkpointCount(rounds.db)
        let session = try rounds.run(["--no-history"], input: "signin dr-lee\nload demo-00042\naccept\n")
        #expect(session.status == 0 && session.stdout.contains("Recorded"), "\(session.stderr)")
        #expect(try checkpointCount(rounds.db) == before + 1, "a session ends with a signed checkpoint")

        let key = try rounds.run(["audit", "key", "--out", path("site.pem")])
        #expect(key.status == 0, "\(key.stderr)")
        let pem = try String(contentsOfFile: path("site.pem"), encoding: .utf8)
        #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----\n") && pem.hasSuffix("-----END PUBLIC KEY-----\n"))
        let shown = try rounds.run(["audit", "key"])
        #expect(shown.stdout.hasPrefix(pem), "\(shown.stdout)")

        let history = try rounds.run(["history", "--patient", "demo-00042", "--json"])
        let id = try #require(try JSONDecoder().decode([DecisionRecord].self, from: Data(history.stdout.utf8)).first?.id)
        let prove = try rounds.run(["audit", "prove", "--decision", id, "--out", path("proof.json")])
        #expect(prove.status == 0 && prove.stdout.contains("inclusion proof"), "\(prove.stderr)")

        // The auditor's side: no store of the site's, no secret. Without --db the check opens none at all.
        let auditor = TestSupport.temporaryDirectory("rounds-auditor-home").path
        let check = try rounds.run(["audit", "verify-proof", "--file", path("proof.json"), "--public-key", path("site.pem")],
                                   environment: ["ROUNDS_DB": auditor + "/never.sqlite"])
        #expect(check.status == 0 && check.stdout.contains("decision \(id) is entry #"), "\(check.stdout) \(check.stderr)")
        #expect(!FileManager.default.fileExists(atPath: auditor + "/never.sqlite"))
        var text = try String(contentsOfFile: path("proof.json"), encoding: .utf8)
        text = text.replacingOccurrences(of: "dr-lee", with: "dr-lea")
        try text.write(toFile: path("forged.json"), atomically: true, encoding: .utf8)
        let forged = try rounds.run(["audit", "verify-proof", "--file", path("forged.json"), "--public-key", path("site.pem")])
        #expect(forged.status == 1 && forged.stdout.contains("does not hold"), "\(forged.stdout)")
        let garbage = TestSupport.write("{\"format\": 3}", name: "g.json", in: dir)
        let bad = try rounds.run(["audit", "verify-proof", "--file", garbage, "--public-key", path("site.pem")])
        #expect(bad.status != 0 && bad.stderr.contains("g.json is not a Rounds audit proof"), "\(bad.stderr)")

        // An export, checked offline with the public key; a checkpoint kept, and the log later proved to extend it.
        #expect(try rounds.run(["audit", "checkpoint", "--out", path("kept.json")]).status == 0)
        #expect(try rounds.run(["audit", "export", "--out", path("log.jsonl")]).status == 0)
        let verified = try rounds.run(["audit", "verify", "--file", path("log.jsonl"), "--public-key", path("site.pem"), "--checkpoint", path("kept.json")])
        #expect(verified.status == 0 && verified.stdout.contains("(signature and root) match") && verified.stdout.contains("Your kept checkpoint"), "\(verified.stdout) \(verified.stderr)")
        let consistency = try rounds.run(["audit", "prove", "--since", path("kept.json"), "--out", path("consistency.json")])
        #expect(consistency.status == 0, "\(consistency.stderr)")
        let extends = try rounds.run(["audit", "verify-proof", "--file", path("consistency.json"), "--public-key", path("site.pem")])
        #expect(extends.status == 0 && extends.stdout.contains("nothing before them was rewritten"), "\(extends.stdout)")
        let store = try rounds.run(["audit", "verify"])
        #expect(store.status == 0 && store.stdout.contains("each extending the one before"), "\(store.stdout)")

        // Another site's key, and misuse, are refused with a reason.
        let other = RoundsProcess()
        #expect(try other.run(["audit", "key", "--out", path("other.pem")]).status == 0)
        let wrong = try rounds.run(["audit", "verify", "--file", path("log.jsonl"), "--public-key", path("other.pem")])
        #expect(wrong.status == 1 && wrong.stdout.contains("the public key given is log"), "\(wrong.stdout)")
        let both = try rounds.run(["audit", "prove"])
        #expect(both.status != 0 && both.stderr.contains("give --decision ID or --since"), "\(both.stderr)")
        let missing = try rounds.run(["audit", "prove", "--decision", "no-such-id"])
        #expect(missing.status != 0 && missing.stderr.contains("no decision no-such-id"), "\(missing.stderr)")
    }
}
