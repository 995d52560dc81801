import Foundation

/// Long output through a pager, as psql and git do: only when standard output is a terminal and
/// the output is taller than it; never when piped. The pager is `$ROUNDS_PAGER`, else `$PAGER`,
/// else `less -FRX` (quit if one screen, keep colours, leave the text on screen); an empty value,
/// `cat`, `--no-pager` or `ROUNDS_NO_PAGER=1` turn it off.
public struct Pager: Sendable {
    /// The shell command that pages, or nil when output goes straight to the terminal.
    public let command: String?
    /// The terminal's height in lines.
    public let rows: Int

    public init(disabled: Bool = false, environment: [String: String] = ProcessInfo.processInfo.environment,
                terminal: Bool = isatty(STDOUT_FILENO) == 1) {
        var size = winsize()
        rows = terminal && ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_row > 0 ? Int(size.ws_row) : 24
        command = Pager.choose(disabled: disabled || environment["ROUNDS_NO_PAGER"] == "1", environment: environment, terminal: terminal)
    }

    /// Which pager applies (tested without a terminal by passing `terminal`).
    static func choose(disabled: Bool, environment: [String: String], terminal: Bool) -> String? {
        guard terminal, !disabled else { return nil }
        let chosen = environment["ROUNDS_PAGER"] ?? environment["PAGER"] ?? "less -FRX"
        let trimmed = chosen.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed == "cat" ? nil : trimmed
    }

    /// Runs `body`; what it writes to standard output goes through the pager if it is taller
    /// than the terminal. Standard error is never captured (errors and notes show at once).
    public func page(_ body: () throws -> Void) throws {
        guard let command else { try body(); return }
        var failure: Error?
        let text = OutputCapture.run(streams: [STDOUT_FILENO]) { do { try body() } catch { failure = error } }
        let lines = text.reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
        if lines < rows || !Pager.spawn(command, text: text) {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if let failure { throw failure }
    }

    /// Writes `text` to the pager's standard input and waits for it; false if it would not start.
    static func spawn(_ command: String, text: String) -> Bool {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return false }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO)
        posix_spawn_file_actions_addclose(&actions, fds[1])
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ) == 0 else {
            close(fds[0]); close(fds[1]); return false
        }
        close(fds[0])
        // A pager that quits early (q in less) closes the pipe: ignore SIGPIPE while writing.
        let previous = signal(SIGPIPE, SIG_IGN)
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            offset += n
        }
        close(fds[1])
        signal(SIGPIPE, previous)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return true
    }
}
