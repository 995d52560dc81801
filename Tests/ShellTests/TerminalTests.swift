import Foundation
import Testing
import TestSupport

/// Drives the real interactive shell in a pseudo-terminal (tmux), as a person at a keyboard.
@Suite(.serialized) struct TerminalTests {
    struct Tmux {
        let socket = "rounds-test-\(UUID().uuidString.prefix(8))"
        /// Runs tmux with posix_spawn and waitpid. Foundation's Process is not used: the tmux
        /// server that `new-session` forks would inherit the descriptor Process watches for the
        /// child's exit, and the wait would never end.
        @discardableResult
        func run(_ args: [String]) throws -> String {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-out-\(UUID().uuidString)").path
            defer { unlink(file) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            let argv = (["tmux", "-L", socket] + args).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            let rc = posix_spawnp(&pid, "tmux", &actions, nil, argv, environ)
            guard rc == 0 else { throw POSIXError(.init(rawValue: rc) ?? .EINVAL) }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            return (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        }
        func keys(_ k: String...) throws { try run(["send-keys", "-t", "s"] + k) }
        func screen() throws -> String { try run(["capture-pane", "-p", "-t", "s", "-S", "-200"]) }
        /// Waits until the screen shows `text` `count` times (or fails after `seconds`).
        func wait(for text: String, count: Int = 1, seconds: Double = 10) throws -> String {
            let deadline = Date().addingTimeInterval(seconds)
            var last = ""
            while Date() < deadline {
                last = try screen()
                if last.components(separatedBy: text).count - 1 >= count { return last }
                usleep(100_000)
            }
            Issue.record("timed out waiting for '\(text)' ×\(count); screen:\n\(last)")
            return last
        }
    }

    static var tmuxAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") }

    @Test(.enabled(if: tmuxAvailable, "tmux is not installed")) func historyRecallCompletionAndInterrupt() throws {
        let rounds = RoundsProcess()
        _ = try rounds.run(["cohort", "generate", "--n", "10"])
        let dir = TestSupport.temporaryDirectory()
        let history = dir.appendingPathComponent("history").path
        let tmux = Tmux()
        let command = "env ROUNDS_DB='\(rounds.db)' ROUNDS_KNOWLEDGE='\(TestSupport.knowledgeDirectory.path)' ROUNDS_HISTORY='\(history)' NO_COLOR=1 '\(RoundsProcess.executable.path)'"
        try tmux.run(["new-session", "-d", "-s", "s", "-x", "150", "-y", "50", command])
        defer { _ = try? tmux.run(["kill-server"]) }
        _ = try tmux.wait(for: "rounds>")
        #expect(try tmux.screen().contains("synthetic"))
        // Tab completes a command name, then a patient id.
        try tmux.keys("loa", "Tab")
        _ = try tmux.wait(for: "rounds> load")
        try tmux.keys("demo-0001", "Tab")
        _ = try tmux.wait(for: "load demo-00010")
        try tmux.keys("Enter")
        _ = try tmux.wait(for: "Loaded demo-00010")
        _ = try tmux.wait(for: "rounds demo-00010>")
        // Ctrl-C cancels the line and keeps the shell.
        try tmux.keys("patients --lim", "C-c")
        usleep(300_000)
        try tmux.keys("summary --visits 1", "Enter")
        let afterInterrupt = try tmux.wait(for: "Trends")
        #expect(!afterInterrupt.contains("patients --limsummary") && !afterInterrupt.contains("unknown"), "the cancelled text leaked into the next line")
        // Up recalls history: the load command, two entries back.
        try tmux.keys("Up", "Up", "Enter")
        _ = try tmux.wait(for: "Loaded demo-00010", count: 2)
        // Ctrl-R searches the history backwards.
        try tmux.keys("C-r", "summ")
        try tmux.keys("Enter")
        _ = try tmux.wait(for: "Trends", count: 2)
        try tmux.keys("quit", "Enter")
        usleep(300_000)
        let saved = try String(contentsOfFile: history, encoding: .utf8)
        #expect(saved.contains("load\\040demo-00010") || saved.contains("load demo-00010"))
        let mode = (try FileManager.default.attributesOfItem(atPath: history)[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600)
    }
    /// The words of `text`, in order (wrapping changes only where the lines break).
    static func words(_ text: String) -> [String] { text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init) }

    /// At 80 and 200 columns, prose wraps at word boundaries: no screen line is wider than the
    /// terminal and the words are those of the unwrapped (piped) output, none cut. The start-up
    /// file runs before the first prompt.
    @Test(.enabled(if: tmuxAvailable, "tmux is not installed"), arguments: [80, 200]) func proseWrapsAtWordBoundaries(columns: Int) throws {
        let rounds = RoundsProcess()
        _ = try rounds.run(["cohort", "generate", "--n", "40"])
        // The patient with the longest guideline output: the one most likely to need wrapping.
        var best = ("", "")
        for n in 1...40 {
            let id = String(format: "demo-%05d", n)
            let r = try rounds.run(["guidelines", "--patient", id])
            if r.stdout.count > best.1.count { best = (id, r.stdout) }
        }
        let (id, piped) = best
        if columns == 80 { #expect(piped.split(separator: "\n").contains { $0.count > 80 }, "nothing to wrap at 80 columns") }
        let dir = TestSupport.temporaryDirectory()
        let rc = TestSupport.write("# start-up file\nload \(id)\n", name: "roundsrc", in: dir)
        let tmux = Tmux()
        let command = "env ROUNDS_DB='\(rounds.db)' ROUNDS_KNOWLEDGE='\(TestSupport.knowledgeDirectory.path)' ROUNDS_RC='\(rc)' NO_COLOR=1 '\(RoundsProcess.executable.path)' --no-history --no-pager"
        try tmux.run(["new-session", "-d", "-s", "s", "-x", String(columns), "-y", "50", command])
        defer { _ = try? tmux.run(["kill-server"]) }
        _ = try tmux.wait(for: "rounds \(id)>")
        try tmux.keys("guidelines", "Enter")
        let screen = try tmux.wait(for: "rounds \(id)>", count: 2, seconds: 20)
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= columns })
        guard let start = lines.lastIndex(where: { $0.hasSuffix("> guidelines") }),
              let end = lines[(start + 1)...].firstIndex(where: { $0.hasPrefix("rounds \(id)>") }) else {
            Issue.record("no guidelines output on screen:\n\(screen)"); return
        }
        let shown = lines[(start + 1)..<end].joined(separator: "\n")
        #expect(Self.words(shown) == Self.words(piped), "screen:\n\(shown)")
        try tmux.keys("quit", "Enter")
        usleep(300_000)
    }

    /// Output taller than the terminal goes through the pager; shorter output and piped output do not.
    @Test(.enabled(if: tmuxAvailable, "tmux is not installed")) func longOutputIsPagedOnlyOnATerminal() throws {
        let rounds = RoundsProcess()
        _ = try rounds.run(["cohort", "generate", "--n", "40"])
        let pager = "sed s/^/PAGED:/"
        let piped = try rounds.run(["patients", "--limit", "0"], environment: ["ROUNDS_PAGER": pager])
        #expect(piped.status == 0 && !piped.stdout.contains("PAGED:") && piped.stdout.contains("demo-00040"))
        let tmux = Tmux()
        let command = "env ROUNDS_DB='\(rounds.db)' ROUNDS_KNOWLEDGE='\(TestSupport.knowledgeDirectory.path)' ROUNDS_PAGER='\(pager)' NO_COLOR=1 '\(RoundsProcess.executable.path)' --no-history --no-rc"
        try tmux.run(["new-session", "-d", "-s", "s", "-x", "120", "-y", "30", command])
        defer { _ = try? tmux.run(["kill-server"]) }
        _ = try tmux.wait(for: "rounds>")
        try tmux.keys("patients --limit 3", "Enter")
        let short = try tmux.wait(for: "rounds>", count: 2)
        #expect(short.contains("demo-00003") && !short.contains("PAGED:"))
        try tmux.keys("patients --limit 0", "Enter")
        let long = try tmux.wait(for: "PAGED:demo-00040")
        #expect(long.contains("PAGED:demo-00040"))
        // The same view from the system shell, on a terminal, pages too; --no-pager does not.
        try tmux.keys("quit", "Enter")
        let tmux2 = Tmux()
        let viewer = "env ROUNDS_DB='\(rounds.db)' ROUNDS_KNOWLEDGE='\(TestSupport.knowledgeDirectory.path)' ROUNDS_PAGER='\(pager)' NO_COLOR=1 sh -c \"'\(RoundsProcess.executable.path)' patients --limit 0; '\(RoundsProcess.executable.path)' patients --limit 0 --no-pager; echo END-OF-RUN; sleep 5\""
        try tmux2.run(["new-session", "-d", "-s", "s", "-x", "120", "-y", "30", viewer])
        defer { _ = try? tmux2.run(["kill-server"]) }
        let both = try tmux2.wait(for: "END-OF-RUN")
        let tail = both.components(separatedBy: "END-OF-RUN")[0].split(separator: "\n").suffix(5)
        #expect(tail.contains { $0.hasPrefix("demo-00040") }, "the --no-pager run was paged: \(tail)")
    }
}
