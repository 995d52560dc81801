import CEditLine
import Foundation

/// Reads the shell's input lines: with libedit (editing, history, completion, Ctrl-R search)
/// when both standard input and output are terminals, as plain lines otherwise (scripts, pipes).
final class LineReader {
    let interactive: Bool
    let historyPath: String?

    init(historyPath: String?) {
        interactive = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
        self.historyPath = interactive ? historyPath : nil
        guard interactive else { return }
        ce_set_name("rounds")
        rl_initialize()
        ce_set_completion(roundsAttemptedCompletion)
        // libedit binds Ctrl-R to redisplay; bind it to incremental reverse search (as LLDB does).
        _ = ce_bind("bind ^R em-inc-search-prev")
        stifle_history(1000)
        if let path = self.historyPath {
            Self.ensurePrivateFile(path)
            _ = read_history(path)
        }
    }

    /// The next line, or nil at end of input (Ctrl-D). Ctrl-C gives back an empty line.
    func readLine(prompt: String) -> String? {
        guard interactive else { return Swift.readLine(strippingNewline: true) }
        guard let raw = readline(prompt) else {
            if Interrupt.requested { Interrupt.clear(); print(""); return "" }
            return nil
        }
        defer { free(raw) }
        let line = String(cString: raw)
        if Interrupt.requested { Interrupt.clear(); return "" }
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if !trimmed.isEmpty && lastAdded != trimmed {
            add_history(trimmed)
            lastAdded = trimmed
            if let path = historyPath { _ = write_history(path) }
        }
        return line
    }

    private var lastAdded: String?

    /// The history file holds what clinicians typed: created 0600 in a 0700 folder.
    static func ensurePrivateFile(_ path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if !FileManager.default.fileExists(atPath: path) {
            let fd = open(path, O_CREAT | O_WRONLY, 0o600)
            if fd >= 0 { close(fd) }
        }
        chmod(path, 0o600)
    }
}
