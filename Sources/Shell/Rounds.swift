import ArgumentParser

/// The `rounds` command: explainable decision support for glucose-lowering therapy.
public struct Rounds: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rounds",
        abstract: "Rounds: explainable clinical decision support for type 2 diabetes therapy.",
        discussion: "Decision support only: Rounds never replaces the clinician's judgement. The demo cohort is synthetic.",
        version: "0.1.0",
        subcommands: [PatientsCommand.self, ImportCommand.self, CohortCommand.self, TrainCommand.self, EvaluateCommand.self, ModelCommand.self, BenchCommand.self])

    public init() {}
}
