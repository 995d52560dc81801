import ArgumentParser
import Foundation

/// `rounds run FILE`: replays a scripted teaching session.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Replay a scripted teaching session (Sessions/*.rounds), pausing at quizzes; --check runs it as a test.",
        discussion: "With --check (or without a terminal) quizzes are recorded as skipped, and the run stops with a non-zero status at the first failed expectation, naming the file and line.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The session file.", valueName: "file")) var file: String
    @Flag(help: "Run without pauses and fail at the first unmet expectation.") var check = false

    func run() throws {
        let script: SessionScript
        do { script = try SessionScript(path: file) } catch let e as SessionScript.ParseError { throw ValidationError(e.description) }
        let session = Session(context: try Context(global), interactive: true)
        defer { try? session.store.writeCheckpoint(reason: "session.end") }
        let interactive = !check && isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
        let loop = ShellLoop(session: session, reader: LineReader(historyPath: nil), bail: false)
        let out = session.out
        var lastOutput = ""
        var quizzes = (asked: 0, matched: 0, skipped: 0)
        var pendingQuiz: (question: String, answers: [String], given: String?)?
        for (line, step) in script.steps {
            switch step {
            case .narration(let text):
                out.print(out.bold("│ ") + text)
            case .command(let command):
                out.print(out.dim(loop.prompt) + command)
                lastOutput = OutputCapture.run {
                    // A failing command's message is part of its output: a session may expect it.
                    if case .failed(let message) = loop.execute(command) { print(message) }
                }
                print(lastOutput, terminator: lastOutput.hasSuffix("\n") || lastOutput.isEmpty ? "" : "\n")
                if let q = pendingQuiz, let given = q.given {
                    let matched = q.answers.contains { given.lowercased().contains($0.lowercased()) || $0.lowercased() == given.lowercased() }
                    out.print(matched ? "✓ Your answer (\(given)) matches." : "✗ Your answer was \(given); the session expected: \(q.answers.joined(separator: " or ")).")
                    if matched { quizzes.matched += 1 }
                }
                pendingQuiz = nil
            case .expect(let text, let present):
                // Whitespace runs (a line wrapped to the terminal included) count as one space.
                if SessionScript.normalized(lastOutput).contains(SessionScript.normalized(text)) != present {
                    let message = "\(file):\(line): expected the output \(present ? "to contain" : "not to contain") \"\(text)\""
                    FileHandle.standardError.write(Data((message + "\n").utf8))
                    if check || !interactive { throw ExitCode(1) }
                }
            case .quiz(let question, let answers):
                quizzes.asked += 1
                out.print(out.bold("? ") + question)
                if interactive {
                    print("your answer> ", terminator: "")
                    fflush(nil)
                    let given = readLine(strippingNewline: true) ?? ""
                    pendingQuiz = (question, answers, given)
                } else {
                    quizzes.skipped += 1
                    out.print(out.dim("  (batch run: quiz skipped; expected \(answers.joined(separator: " or ")))"))
                }
            }
        }
        out.print(out.dim("Session \(file) complete: \(script.steps.count) steps; quizzes \(quizzes.asked) (\(quizzes.matched) matched, \(quizzes.skipped) skipped)."))
    }
}
