import Foundation
import Testing
import TestSupport

/// Every teaching session in Sessions/ runs clean with --check on the default demo cohort.
@Suite(.serialized) struct SessionTests {
    static var sessions: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: TestSupport.repoRoot.appendingPathComponent("Sessions"), includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "rounds" }.sorted { $0.path < $1.path }
    }

    @Test func everySessionPassesItsChecks() throws {
        #expect(Self.sessions.count >= 5)
        let rounds = RoundsProcess(demo: true)
        for file in Self.sessions {
            let r = try rounds.run(["run", "--check", file.path])
            #expect(r.status == 0, "\(file.lastPathComponent): \(r.stderr)")
            #expect(r.stdout.contains("complete:") && r.stdout.contains("skipped"))
        }
    }

    @Test func aFailedExpectationNamesFileAndLine() throws {
        let rounds = RoundsProcess()
        _ = try rounds.run(["cohort", "generate", "--n", "5"])
        let file = TestSupport.write("# test\nload demo-00001\nexpect Loaded demo-00001\nexpect-not Loaded\n", name: "t.rounds")
        let r = try rounds.run(["run", "--check", file])
        #expect(r.status == 1 && r.stderr.contains("t.rounds:4: expected the output not to contain \"Loaded\""))
        let broken = TestSupport.write("load demo-00001\nquiz \"unfinished\n", name: "b.rounds")
        let b = try rounds.run(["run", "--check", broken])
        #expect(b.status != 0 && b.stderr.contains("b.rounds:2"))
    }
}
