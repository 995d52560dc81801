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
}
