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
                      ExplainCommand.self, WhatIfCommand.self, GuidelinesCommand.self, RunCommand.self, ImportCommand.self, CohortCommand.self,
                      ModelCommand.self, TrainCommand.self, EvaluateCommand.self, BenchCommand.self])

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Reading commands from a file or pipe: stop at the first line that fails.")
    var bail = false

    @Flag(help: "Keep no history file for this session (the history holds what was typed, patient ids included).")
    var noHistory = false

    public init() {}

    /// The interactive shell (or, with piped input, a script of shell commands).
    public func run() throws {
        let session = Session(context: try Context(global), interactive: true)
        let env = ProcessInfo.processInfo.environment
        let history = noHistory ? nil : (env["ROUNDS_HISTORY"] ?? ((env["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".rounds/history"))
        let reader = LineReader(historyPath: history)
        let failures = ShellLoop(session: session, reader: reader, bail: bail).run()
        if failures > 0 && !reader.interactive { throw ExitCode(1) }
    }
}
