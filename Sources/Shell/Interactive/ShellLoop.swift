import ArgumentParser
import Foundation
import Patients
import Store
import TreatmentModel

/// The commands of the interactive shell, parsed by swift-argument-parser so that `help` and
/// `help COMMAND` come from the same definitions that parse them.
struct ShellCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rounds",
        abstract: "Rounds shell: review a patient's record. Type a command; Tab completes, Up/Down and Ctrl-R search the history, Ctrl-D or `quit` leaves.",
        subcommands: [PatientsCommand.self, LoadCommand.self, SummaryCommand.self, RecommendCommand.self, AttentionCommand.self,
                      ExplainCommand.self, WhatIfCommand.self, GuidelinesCommand.self, ReportCommand.self, SigninCommand.self, AcceptCommand.self, OverrideCommand.self,
                      HistoryCommand.self, AuditCommand.self, LearnCommand.self, ModelCommand.self, CohortCommand.Info.self, ImportCommand.self, QuitCommand.self])

    static let names: [String] = configuration.subcommands.map { $0._commandName } + ["help", "exit"]
}

/// `quit` / `exit`: leave the shell.
struct QuitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "quit", abstract: "Leave the shell (also `exit` or Ctrl-D).", aliases: ["exit"])
}

/// The read–evaluate–print loop.
struct ShellLoop {
    let session: Session
    let reader: LineReader
    /// Stop at the first failing line (scripts).
    let bail: Bool

    /// Runs until end of input or `quit`; returns how many lines failed. A start-up file, if
    /// given, runs after the banner and before the first prompt.
    func run(startupFile: String? = nil) -> Int {
        configureCompletion()
        if reader.interactive { printBanner() }
        if let startupFile { runStartupFile(startupFile) }
        Interrupt.install()
        defer { Interrupt.restore() }
        var lineNumber = 0
        var failures = 0
        while let line = reader.readLine(prompt: prompt) {
            lineNumber += 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let outcome = execute(trimmed)
            switch outcome {
            case .quit: return failures
            case .ok: break
            case .failed(let message):
                failures += 1
                let place = reader.interactive ? "" : "line \(lineNumber): "
                FileHandle.standardError.write(Data((place + message + "\n").utf8))
                if bail { return failures }
            }
            Interrupt.clear()
        }
        if reader.interactive { print("") }
        return failures
    }

    enum Outcome { case ok, quit, failed(String) }

    /// Runs a start-up file (`~/.roundsrc`, or `$ROUNDS_RC`) before the first prompt, as sqlite3
    /// and psql do: shell lines, `#` comments. A failing line is reported with the file and line
    /// and the shell goes on; `quit` in the file is ignored. Returns how many lines failed.
    @discardableResult
    func runStartupFile(_ path: String) -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        var failures = 0
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if case .failed(let message) = execute(line) {
                failures += 1
                FileHandle.standardError.write(Data("\(path):\(i + 1): \(message)\n".utf8))
            }
        }
        return failures
    }

    func execute(_ line: String) -> Outcome {
        let words: [String]
        do { words = try Tokenizer.split(line) } catch let e as Tokenizer.UnclosedQuote {
            return .failed("unclosed \(e.quote) quote")
        } catch { return .failed("\(error)") }
        guard let first = words.first else { return .ok }
        if first == "quit" || first == "exit" { return .quit }
        if first == "help" && words.count == 1 {
            try? session.pager.page { print(ShellCommands.helpMessage(columns: session.out.width)) }
            return .ok
        }
        if !ShellCommands.names.contains(first) && !first.hasPrefix("-") {
            let hint = Suggest.nearest(first, in: ShellCommands.names).map { " Did you mean '\($0)'?" } ?? ""
            return .failed("unknown command '\(first)'.\(hint) `help` lists the commands.")
        }
        let command: ParsableCommand
        do { command = try ShellCommands.parseAsRoot(words) } catch {
            // A parse error gets the usage; help requests print and succeed.
            let message = ShellCommands.fullMessage(for: error, columns: session.out.width)
            if ShellCommands.exitCode(for: error) == .success { print(message); return .ok }
            return .failed(message)
        }
        do {
            if let c = command as? any SessionCommand {
                if PagedCommands.pages(c) && !c.global.noPager { try session.pager.page { try c.run(in: session) } } else { try c.run(in: session) }
            }
            else if command is QuitCommand { return .quit }
            else { var c = command; try c.run() }
            return .ok
        } catch let e as ValidationError {
            return .failed("error: \(e.message)")
        } catch let e as ExitCode {
            return e == .success ? .ok : .failed("error: the command failed (exit status \(e.rawValue))")
        } catch {
            return .failed("error: \(error)")
        }
    }

    var prompt: String {
        "rounds" + (session.context.clinician.map { " [\($0)]" } ?? "") + (session.patient.map { " \($0.id)" } ?? "") + "> "
    }

    func printBanner() {
        let out = session.out
        let count = (try? session.store.patientCount()) ?? 0
        let synthetic = (try? session.store.patientCount(origin: .synthetic)) ?? 0
        var model = "no model"
        if let m = try? session.model() {
            model = "model \(m.label) (sha256 \(m.sha256.prefix(12)))"
        }
        out.print(out.bold("Rounds 0.1.0") + " · explainable decision support for type 2 diabetes therapy")
        out.print("knowledge pack: \(session.pack.features.columns.count) features, \(session.pack.treatments.ids.count) treatment options · \(model)")
        out.print("store: \(session.store.path) · \(count) patients" + (synthetic > 0 ? " (\(synthetic) synthetic demo patients: not real people)" : ""))
        out.print(out.dim("Decision support only: it never replaces the clinician. `help` lists the commands."))
    }

    func configureCompletion() {
        Completion.commands = ShellCommands.names.filter { $0 != "help" } + ["help"]
        Completion.options = [
            "patients": ["--condition", "--sex", "--min-age", "--max-age", "--origin", "--search", "--limit", "--json"],
            "summary": ["--patient", "--visits", "--json"],
            "model": ["show", "list", "use", "--file", "--json"],
            "learn": ["--activate", "--tolerance", "--max-kl", "--json"],
            "cohort": ["--json"],
            "import": ["--json"],
            "load": [],
            "recommend": ["--patient", "--visit", "--json"],
            "attention": ["--patient", "--visit", "--json"],
            "explain": ["--patient", "--visit", "--steps", "--method", "--baseline", "--top", "--json"],
            "guidelines": ["lint", "--patient", "--visit", "--json"],
            "whatif": ["--patient", "--visit", "--json"],
            "report": ["--patient", "--visit", "--as-of", "--whatif", "--pseudonymize", "--session", "--out"],
            "signin": ["--as", "--out"],
            "accept": ["--note", "--confirm", "--patient", "--visit", "--json"],
            "override": ["--reason", "--note", "--confirm", "--patient", "--visit", "--json"],
            "history": ["--patient", "--json"],
            "audit": ["show", "verify", "export", "key", "checkpoint", "prove", "verify-proof", "--decision", "--public-key", "--checkpoint", "--last", "--patient", "--file", "--format", "--since", "--until", "--by", "--pseudonymize", "--out", "--json"],
        ]
        let store = session.store, pack = session.pack
        Completion.values = [
            "patient": { (try? store.patientIDs()) ?? [] },
            "condition": { pack.features.conditions.map(\.id) },
            "command": { ShellCommands.names },
            "treatment": { pack.treatments.ids },
            "method": { ["riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre"] },
            "baseline": { ["zeros", "first-visit"] },
            "feature": { pack.features.measured.map { $0.id + "=" } + pack.features.conditions.map { $0.id + "=" } },
            "reason": { [session] in (try? session.overrideReasons())?.codes ?? [] },
            "format": { AuditExportOptions.Format.allCases.map(\.rawValue) },
            "role": { ["physician", "nurse-practitioner", "pharmacist", "resident", "student", "teacher"] },
        ]
        Completion.valueAfter = ["load": "patient", "--patient": "patient", "--condition": "condition", "help": "command",
                                 "explain": "treatment", "--method": "method", "--baseline": "baseline", "whatif": "feature",
                                 "override": "treatment", "--whatif": "feature", "--reason": "reason", "--format": "format", "--as": "role"]
    }
}
