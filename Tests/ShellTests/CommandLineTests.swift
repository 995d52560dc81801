import Foundation
import Testing
import TestSupport

/// Runs the built `rounds` executable as a newcomer would, each test on its own store.
struct RoundsProcess {
    static let executable: URL = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [here.appendingPathComponent("rounds"), here.deletingLastPathComponent().appendingPathComponent("rounds"),
                          TestSupport.repoRoot.appendingPathComponent(".build/debug/rounds")]
        where FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        return here.appendingPathComponent("rounds")
    }()

    let db: String

    /// A fresh store; with `demo`, a copy of one that holds the default synthetic demo cohort.
    init(demo: Bool = false) {
        db = TestSupport.temporaryDirectory().appendingPathComponent("rounds.sqlite").path
        if demo {
            let fm = FileManager.default
            try! fm.copyItem(atPath: Self.demoTemplate, toPath: db)
            try! fm.copyItem(atPath: Self.demoTemplate + ".site-key", toPath: db + ".site-key")
            try! fm.copyItem(atPath: Self.demoTemplate + ".signing-key", toPath: db + ".signing-key")
        }
    }

    /// The default demo cohort (20,000 patients) takes the debug executable about 16 s to
    /// generate: it is generated once per test run, the way a first start does, and copied for
    /// each test that wants it (`anEmptyStoreGetsTheSyntheticDemoCohort` tests the first start itself).
    static let demoTemplate: String = {
        let template = RoundsProcess()
        let r = try! template.run(["patients", "--limit", "0"])
        precondition(r.status == 0 && r.stderr.contains("generating the synthetic demo cohort"), "demo template: \(r.stderr)")
        return template.db
    }()

    struct Result { var status: Int32; var stdout: String; var stderr: String; var maxRSSKiB: Int }

    func run(_ args: [String], environment extra: [String: String] = [:], input: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = Self.executable
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["ROUNDS_DB"] = db
        env["ROUNDS_KNOWLEDGE"] = TestSupport.knowledgeDirectory.path
        env["NO_COLOR"] = "1"
        env["COLUMNS"] = "160"
        for (k, v) in extra { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        let stdin = Pipe()
        p.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try p.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Read both pipes while the child runs so that neither fills up.
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        // This child's own peak resident memory (VmHWM), polled while it runs: getrusage's
        // RUSAGE_CHILDREN would give the largest of every child the test process ever had.
        nonisolated(unsafe) var peakKiB = 0
        let pid = p.processIdentifier
        let watcher = Thread {
            while p.isRunning {
                if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                   let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                   let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
                    peakKiB = max(peakKiB, kib)
                }
                usleep(5000)
            }
        }
        watcher.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !reader.isFinished || !watcher.isFinished { usleep(1000) }
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self), maxRSSKiB: peakKiB)
    }
}

@Suite(.serialized) struct CommandLineTests {
    @Test func helpListsTheSubcommands() throws {
        let r = try RoundsProcess().run(["--help"])
        #expect(r.status == 0)
        for sub in ["patients", "import", "cohort"] { #expect(r.stdout.contains(sub)) }
    }

    @Test func importingTheFixturesTwiceChangesNothing() throws {
        let rounds = RoundsProcess()
        let first = try rounds.run(["import", TestSupport.fixtures.path])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("8 new, 0 updated, 0 unchanged"))
        #expect(first.stdout.contains("Resources skipped"))
        let second = try rounds.run(["import", TestSupport.fixtures.path])
        #expect(second.status == 0)
        #expect(second.stdout.contains("0 new, 0 updated, 8 unchanged (no changes)"))
        let list = try rounds.run(["patients", "--no-demo", "--json"])
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 8)
    }

    @Test func aFailedFileExitsNonZeroAndLeavesTheStoreAsItWas() throws {
        let rounds = RoundsProcess()
        let dir = TestSupport.temporaryDirectory()
        _ = TestSupport.write(#"{"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {"resourceType": "Patient", "id": "a", "birthDate": "1950-01-01"}}, "#, name: "broken.json", in: dir)
        let r = try rounds.run(["import", dir.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("broken.json:1"))
        #expect(r.stdout.contains("truncated"))
        let list = try rounds.run(["patients", "--no-demo", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any])?.isEmpty == true)
    }

    @Test func anEmptyStoreGetsTheSyntheticDemoCohort() throws {
        let rounds = RoundsProcess()
        let r = try rounds.run(["patients", "--limit", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("generating the synthetic demo cohort"))
        #expect(r.stdout.contains("demo-00001"))
        #expect(r.stdout.contains("showing 3 of 20000"))
        #expect(r.stdout.contains("synthetic"))
        let again = try rounds.run(["patients", "--condition", "heart_failure", "--limit", "0", "--json"])
        #expect(!again.stderr.contains("generating"))
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [[String: Any]])
        #expect(!rows.isEmpty && rows.allSatisfy { ($0["conditions"] as? [String])?.contains("heart_failure") == true })
        let info = try rounds.run(["cohort"])
        #expect(info.stdout.contains("20000 patients"))
    }

    @Test func mistakesGetClearMessages() throws {
        let rounds = RoundsProcess()
        let typo = try rounds.run(["patients", "--no-demo", "--condition", "heart_faliure"])
        #expect(typo.status != 0)
        #expect(typo.stderr.contains("Did you mean 'heart_failure'"))
        let sex = try rounds.run(["patients", "--no-demo", "--sex", "X"])
        #expect(sex.status != 0 && sex.stderr.contains("--sex takes F or M"))
        let missing = try rounds.run(["import", "/no/such/file.json"])
        #expect(missing.status == 1 && missing.stdout.contains("no such file"))
        let knowledge = try rounds.run(["patients"], environment: ["ROUNDS_KNOWLEDGE": "/nonexistent"])
        #expect(knowledge.status != 0 && knowledge.stderr.contains("features.yaml"))
    }

    @Test func cohortGenerationIsDeterministic() throws {
        let a = RoundsProcess(), b = RoundsProcess()
        for r in [a, b] { #expect(try r.run(["cohort", "generate", "--n", "300", "--seed", "42"]).status == 0) }
        let la = try a.run(["patients", "--limit", "0", "--json"]).stdout
        let lb = try b.run(["patients", "--limit", "0", "--json"]).stdout
        #expect(la == lb && la.contains("demo-00300"))
    }
}
