import CEditLine
import Foundation

/// Tab completion for libedit. The C callbacks live here (not in main.swift, whose globals are
/// main-actor isolated); what they complete from is set by the shell before each prompt.
enum Completion {
    /// Words for the first position (command names).
    nonisolated(unsafe) static var commands: [String] = []
    /// Options of each command, by command name.
    nonisolated(unsafe) static var options: [String: [String]] = [:]
    /// Values by what they complete: "patient", "condition", "treatment", "feature".
    nonisolated(unsafe) static var values: [String: () -> [String]] = [:]
    /// Which value kind follows an option or a command (`load` → patient, `--condition` → condition).
    nonisolated(unsafe) static var valueAfter: [String: String] = [:]

    nonisolated(unsafe) static var matches: [String] = []
    nonisolated(unsafe) static var next = 0

    /// Candidates for the word being typed, given the line before it.
    static func candidates(lineBefore: String, word: String) -> [String] {
        let words = (try? Tokenizer.split(lineBefore)) ?? lineBefore.split(separator: " ").map(String.init)
        let pool: [String]
        if words.isEmpty {
            pool = commands
        } else if let kind = valueAfter[words.last!] ?? (words.count == 1 ? valueAfter[words[0]] : nil), let source = values[kind] {
            pool = source() + (word.hasPrefix("-") ? options[words[0]] ?? [] : [])
        } else {
            pool = (options[words[0]] ?? []) + ["--help"]
        }
        return pool.filter { $0.hasPrefix(word) }.sorted()
    }
}

/// libedit's attempted-completion hook: no filename fallback, our candidates only.
let roundsAttemptedCompletion: ce_completion_fn = { text, start, _ in
    ce_completion_over()
    let line = ce_line_buffer().map { String(cString: $0) } ?? ""
    let before = String(line.utf8.prefix(Int(start))) ?? ""
    Completion.matches = Completion.candidates(lineBefore: before, word: text.map { String(cString: $0) } ?? "")
    Completion.next = 0
    return ce_matches(text, roundsCompletionGenerator)
}

/// Hands libedit one match per call (strdup'd: libedit frees them), then NULL.
let roundsCompletionGenerator: ce_generator_fn = { _, state in
    if state == 0 { Completion.next = 0 }
    guard Completion.next < Completion.matches.count else { return nil }
    defer { Completion.next += 1 }
    return strdup(Completion.matches[Completion.next])
}
