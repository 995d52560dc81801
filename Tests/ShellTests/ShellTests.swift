import Foundation
import Testing
@testable import Shell
import Patients
import TestSupport

@Suite struct ShellUnitTests {
    @Test func tokenizerSplitsLikeAShell() throws {
        #expect(try Tokenizer.split("load demo-00042") == ["load", "demo-00042"])
        #expect(try Tokenizer.split(#"override sglt2 --note "patient prefers pills"  "#) == ["override", "sglt2", "--note", "patient prefers pills"])
        #expect(try Tokenizer.split(#"say 'it''s' a\ b"#) == ["say", "its", "a b"])
        #expect(try Tokenizer.split("   ") == [])
        #expect(throws: Tokenizer.UnclosedQuote.self) { try Tokenizer.split(#"note "unfinished"#) }
    }

    @Test func completionOffersWhatFitsThePosition() {
        Completion.commands = ["patients", "load", "summary", "quit"]
        Completion.options = ["patients": ["--condition", "--limit"]]
        Completion.values = ["patient": { ["demo-00001", "demo-00002", "x-1"] }, "condition": { ["ckd", "heart_failure"] }]
        Completion.valueAfter = ["load": "patient", "--condition": "condition"]
        #expect(Completion.candidates(lineBefore: "", word: "pa") == ["patients"])
        #expect(Completion.candidates(lineBefore: "load ", word: "demo") == ["demo-00001", "demo-00002"])
        #expect(Completion.candidates(lineBefore: "patients ", word: "--l") == ["--limit"])
        #expect(Completion.candidates(lineBefore: "patients --condition ", word: "he") == ["heart_failure"])
    }

    @Test func globalOptionsBeforeASubcommandReachIt() {
        #expect(Rounds.normalize(["--db", "/x.sqlite", "patients", "--limit", "3"]) == ["patients", "--db", "/x.sqlite", "--limit", "3"])
        #expect(Rounds.normalize(["--no-demo", "--knowledge=/k", "cohort", "generate", "--n", "5"]) == ["cohort", "generate", "--no-demo", "--knowledge=/k", "--n", "5"])
        #expect(Rounds.normalize(["--db", "/x.sqlite"]) == ["--db", "/x.sqlite"])          // the shell itself
        #expect(Rounds.normalize(["patients", "--db", "/x"]) == ["patients", "--db", "/x"])
        #expect(Rounds.normalize(["--db"]) == ["--db"])
    }

    @Test func sparklineScalesBetweenMinAndMax() {
        #expect(Sparkline.render([1, 2, 3, 4, 5, 6, 7, 8], width: 20) == "▁▂▃▄▅▆▇█")
        #expect(Sparkline.render([5, 5, 5], width: 20) == "▄▄▄")
        #expect(Sparkline.render([1, 9, 1, 9], width: 2) == "▁█")
        #expect(Sparkline.render([], width: 5) == "")
    }

    @Test func tablesFitTheWidth() {
        let t = Table(headers: ["ID", "NOTE"], rows: [["a", String(repeating: "x", count: 80)]])
        #expect(t.render(width: 30).split(separator: "\n").allSatisfy { $0.count <= 30 })
        #expect(t.render(width: 30).contains("…"))
    }
}

@Suite(.serialized) struct ShellScriptTests {
    @Test func pipedCommandsRunWithoutPromptsAndErrorsNameTheLine() throws {
        let rounds = RoundsProcess()
        _ = try rounds.run(["cohort", "generate", "--n", "60", "--seed", "4"])
        let script = """
        # a comment
        patients --limit 2
        load demo-00007
        summary --visits 2
        summary --json
        lod demo-00001
        load nobody
        quit
        patients
        """
        let r = try rounds.run([], input: script)
        #expect(r.status == 1)
        #expect(!r.stdout.contains("rounds>"))
        #expect(r.stdout.contains("Loaded demo-00007"))
        #expect(r.stdout.contains("Synthetic patient"))
        #expect(r.stdout.contains("HbA1c"))
        #expect(r.stderr.contains("line 6: unknown command 'lod'. Did you mean 'load'?"))
        #expect(r.stderr.contains("line 7: error: no patient 'nobody'"))
        #expect(!r.stdout.contains("showing 9 of") && r.stdout.components(separatedBy: "demo-00001").count == 2, "commands after quit ran")
        let bail = try rounds.run(["--bail"], input: "lod x\npatients\n")
        #expect(bail.status == 1 && !bail.stdout.contains("demo-00001"))
        let ok = try rounds.run([], input: "load demo-00003\nsummary\n")
        #expect(ok.status == 0 && ok.stdout.contains("demo-00003"))
    }

    @Test func summaryNeedsAPatient() throws {
        let rounds = RoundsProcess()
        _ = try rounds.run(["cohort", "generate", "--n", "10"])
        let r = try rounds.run([], input: "summary\n")
        #expect(r.stderr.contains("no patient loaded: `load ID` first"))
        let direct = try rounds.run(["summary", "--patient", "demo-00002", "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(direct.stdout.utf8)) as? [String: Any])
        #expect(json["id"] as? String == "demo-00002" && json["synthetic"] as? Bool == true)
        #expect((json["trends"] as? [[String: Any]])?.first?["feature"] as? String == "hba1c")
    }
}
