import ArgumentParser
import Foundation

/// The `rounds` command: explainable decision support for glucose-lowering therapy. With no
/// subcommand it opens the interactive shell.
public struct Rounds: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rounds",
        abstract: "Rounds: explainable clinical decision support for type 2 diabetes therapy.",
        discussion: "Decision support only: Rounds never replaces the clinician's judgement. The demo cohort is synthetic.",
        version: "0.1.0",
        subcommands: [PatientsCommand.self, LoadCommand.self, SummaryCommand.self, RecommendCommand.self, AttentionCommand.self,
                      ExplainCommand.self, WhatIfCommand.self, GuidelinesCommand.self, ReportCommand.self, SigninCommand.self, AcceptCommand.self, OverrideCommand.self,
                      HistoryCommand.self, AuditCommand.self, LearnCommand.self, SimulateCommand.self, RunCommand.self, ImportCommand.self, CohortCommand.self,
                      ModelCommand.self, TrainCommand.self, EvaluateCommand.self, BenchCommand.self, ServeCommand.self])

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Reading commands from a file or pipe: stop at the first line that fails.")
    var bail = false

    @Flag(help: "Keep no history file for this session (the history holds what was typed, patient ids included).")
    var noHistory = false

    @Flag(help: "Do not run the start-up file (~/.roundsrc, or $ROUNDS_RC).")
    var noRc = false

    public init() {}

    /// Entry point: `rounds --db X patients` means the same as `rounds patients --db X`.
    public static func start() {
        main(normalize(Array(CommandLine.arguments.dropFirst())))
    }

    /// Moves the options every command takes (`--db`, `--knowledge`, `--clinician`, `--role`,
    /// `--no-demo`) from before a subcommand's name to after it, where the subcommand parses
    /// them; swift-argument-parser would otherwise give them to the shell and leave the
    /// subcommand on its defaults.
    static func normalize(_ args: [String]) -> [String] {
        var leading: [String] = []
        var i = 0
        while i < args.count {
            switch args[i] {
            case "--db", "--knowledge", "--clinician", "--role":
                guard i + 1 < args.count else { return args }
                leading += [args[i], args[i + 1]]; i += 2
            case let a where ["--db=", "--knowledge=", "--clinician=", "--role="].contains(where: { a.hasPrefix($0) }): leading.append(a); i += 1
            case "--no-demo", "--no-pager": leading.append(args[i]); i += 1
            default:
                let names = configuration.subcommands.map { $0._commandName }
                guard !leading.isEmpty, names.contains(args[i]) else { return args }
                var out = [args[i]]
                // A command group (`cohort generate`, `guidelines lint`) takes them after its own subcommand.
                var j = i + 1
                if j < args.count, !args[j].hasPrefix("-"), let group = configuration.subcommands.first(where: { $0._commandName == args[i] }),
                   group.configuration.subcommands.map({ $0._commandName }).contains(args[j]) {
                    out.append(args[j]); j += 1
                }
                return out + leading + Array(args[j...])
            }
        }
        return args
    }

    /// The interactive shell (or, with piped input, a script of shell commands).
    public func run() throws {
        let session = Session(context: try Context(global), interactive: true)
        if global.noPager { session.pager = Pager(disabled: true) }
        let env = ProcessInfo.processInfo.environment
        let home = env["HOME"] ?? NSHomeDirectory()
        let startup = noRc ? nil : (env["ROUNDS_RC"] ?? (home as NSString).appendingPathComponent(".roundsrc"))
        let history = noHistory ? nil : (env["ROUNDS_HISTORY"] ?? (home as NSString).appendingPathComponent(".rounds/history"))
        let reader = LineReader(historyPath: history)
        try session.context.audit(.sessionStart, action: "E", detail: ["interactive": String(reader.interactive)])
        let failures = ShellLoop(session: session, reader: reader, bail: bail).run(startupFile: startup)
        try? session.context.audit(.sessionEnd, action: "E", detail: ["failed_lines": String(failures)])
        // The session's entries under a signed checkpoint (RFC 9162), so outsiders can check them.
        try? session.store.writeCheckpoint(reason: "session.end")
        if failures > 0 && !reader.interactive { throw ExitCode(1) }
    }
}
