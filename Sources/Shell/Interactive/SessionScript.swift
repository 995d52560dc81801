import Foundation

/// A scripted teaching session (`Sessions/*.rounds`): shell commands, `#` comments, narration
/// lines shown to the learner (`> text`), and three directives:
///
///     expect TEXT          the previous command's output must contain TEXT
///     expect-not TEXT      … must not contain it
///     quiz "QUESTION" ANSWER…   the learner answers before the next command reveals the
///                          model's and the guidelines' view; any listed answer matches
///
/// Sessions double as transcript tests: `rounds run --check FILE` stops at the first failed
/// expectation and names the file and line.
struct SessionScript {
    enum Step {
        case command(String)
        case narration(String)
        case expect(String, present: Bool)
        case quiz(question: String, answers: [String])
    }

    let path: String
    let steps: [(line: Int, step: Step)]

    struct ParseError: Error, CustomStringConvertible {
        var path: String, line: Int, message: String
        var description: String { "\(path):\(line): \(message)" }
    }

    init(path: String) throws {
        self.path = path
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ParseError(path: path, line: 0, message: "cannot read the session file: \(error.localizedDescription)")
        }
        var steps: [(Int, Step)] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let n = i + 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix(">") { steps.append((n, .narration(String(line.dropFirst()).trimmingCharacters(in: .whitespaces)))); continue }
            if line.hasPrefix("expect-not ") { steps.append((n, .expect(String(line.dropFirst(11)), present: false))); continue }
            if line.hasPrefix("expect ") { steps.append((n, .expect(String(line.dropFirst(7)), present: true))); continue }
            if line == "expect" || line == "expect-not" { throw ParseError(path: path, line: n, message: "\(line) needs the text to look for") }
            if line.hasPrefix("quiz ") {
                let words: [String]
                do { words = try Tokenizer.split(String(line.dropFirst(5))) } catch { throw ParseError(path: path, line: n, message: "unclosed quote in quiz") }
                guard words.count >= 2 else { throw ParseError(path: path, line: n, message: "quiz needs a \"question\" and at least one answer") }
                steps.append((n, .quiz(question: words[0], answers: Array(words.dropFirst()))))
                continue
            }
            steps.append((n, .command(line)))
        }
        if !steps.contains(where: { if case .command = $0.1 { return true }; return false }) {
            throw ParseError(path: path, line: 1, message: "the session runs no command")
        }
        self.steps = steps
    }
}

extension SessionScript {
    /// Text as `expect` compares it: colour codes removed and every run of spaces and line
    /// breaks made one space, so that an expectation holds however the terminal wrapped it.
    static func normalized(_ text: String) -> String {
        text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
            .replacingOccurrences(of: "\\s+", with: " ", options: .regularExpression)
    }
}

/// Captures what a block writes to standard output and standard error (or only the streams
/// named: the pager captures standard output alone, so errors still show at once).
enum OutputCapture {
    static func run(streams: [Int32] = [STDOUT_FILENO, STDERR_FILENO], _ body: () -> Void) -> String {
        fflush(nil)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { body(); return "" }
        let saved = streams.map { dup($0) }
        for s in streams { dup2(fds[1], s) }
        close(fds[1])
        nonisolated(unsafe) var data = Data()
        let readEnd = fds[0]
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(readEnd, &buffer, buffer.count)
                if n <= 0 { break }
                data.append(contentsOf: buffer[0..<n])
            }
        }
        reader.start()
        body()
        fflush(nil)
        for (s, copy) in zip(streams, saved) { dup2(copy, s); close(copy) }
        while !reader.isFinished { usleep(500) }
        close(readEnd)
        return String(decoding: data, as: UTF8.self)
    }
}
