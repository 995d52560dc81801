import ArgumentParser
import Foundation
import Cohort
import Patients
import Store
import TreatmentModel

/// `rounds cohort`: the synthetic demo cohort.
struct CohortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "The synthetic demo cohort: generate it, or show what is in the store.",
        subcommands: [Info.self, Generate.self, Export.self],
        defaultSubcommand: Info.self)

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a deterministic synthetic cohort into the store (replacing the synthetic patients; imported ones stay).",
            discussion: "Same seed and size give identical data. Patients are generated and written in batches, so any size fits in bounded memory.")

        @OptionGroup var global: GlobalOptions

        @Option(name: [.customLong("n"), .long], help: "Number of patients.")
        var size: Int = CohortGenerator.defaultSize

        @Option(help: "Random seed.")
        var seed: UInt64 = CohortGenerator.defaultSeed

        func validate() throws {
            guard size >= 1 else { throw ValidationError("--n must be at least 1") }
            guard size <= 99_999_999 else { throw ValidationError("--n must be at most 99,999,999") }
        }

        func run() throws {
            let ctx = try Context(global, seedDemo: false)
            let tty = isatty(STDERR_FILENO) == 1
            let seconds = try ctx.generateCohort(size: size, seed: seed) { done in
                if tty { FileHandle.standardError.write(Data("\rgenerating… \(done)/\(size)".utf8)) }
            }
            if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            ctx.out.print(String(format: "Generated %d synthetic patients (seed %llu) in %.2f s (%.0f patients/s).", size, seed, seconds, Double(size) / seconds))
            ctx.out.print("They are synthetic: no real person is described.")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the cohort's index visits as a CSV table: one row per synthetic patient, for analysis outside Rounds.",
            discussion: """
            Columns: patient, split (train, validation, test: the split training uses), label, the simulated utility
            of every option (utility.<option>), then the summary the tree baseline of `evaluate` reads: the index visit's
            features (last.<feature>) and per-feature aggregates over the visits (HistoryAggregates). Unknown values are
            empty. `benchmarks/probe_labels.py` reads it. The patients are synthetic.
            """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The CSV file to write.", valueName: "file"))
        var out: String

        func run() throws {
            let ctx = try Context(global)
            let data = try ModelData.load(ctx, seed: TrainingConfig().seed, indexOnly: true)
            let treatments = ctx.pack.treatments.ids
            let aggregates = HistoryAggregates(pack: ctx.pack)
            var text = (["patient", "split", "label"] + treatments.map { "utility." + $0 } + aggregates.names).joined(separator: ",") + "\n"
            for (split, part) in [("train", data.train), ("validation", data.validation), ("test", data.test)] {
                for e in part.examples {
                    guard let truth = try ctx.store.cohortTruth(id: e.patientID) else { continue }
                    let values = aggregates.row(e.rows).map { $0.isNaN ? "" : String($0) }
                    text += ([e.patientID, split, treatments[e.label]] + truth.utilities.map { String(format: "%.6f", $0) } + values).joined(separator: ",") + "\n"
                }
            }
            try AtomicFile.write(Data(text.utf8), to: out)
            ctx.out.print("Wrote \(data.train.examples.count + data.validation.examples.count + data.test.examples.count) synthetic patients to \(out).")
        }
    }

    struct Info: SessionCommand {
        static let configuration = CommandConfiguration(abstract: "Show the cohort's settings and how its labels are distributed.")

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Print as JSON.")
        var json = false

        struct Summary: Codable { var seed: UInt64; var size: Int; var generator: String; var generatedAt: String; var labels: [String: Int]; var synthetic = true }

        func run(in session: Session) throws {
            let ctx = session.context
            guard let info = try ctx.store.cohortInfo() else {
                ctx.out.print("No synthetic cohort in this store. `rounds cohort generate` makes one."); return
            }
            let labels = try ctx.store.cohortLabelCounts()
            if json { try ctx.out.json(Summary(seed: info.seed, size: info.size, generator: info.generator, generatedAt: info.generatedAt, labels: labels)); return }
            ctx.out.print("Synthetic demo cohort: \(info.size) patients, seed \(info.seed), generator \(info.generator), generated \(info.generatedAt).")
            ctx.out.print("Best simulated treatment at the index visit (the training label):")
            let total = max(labels.values.reduce(0, +), 1)
            let rows = ctx.pack.treatments.options.map { o -> [String] in
                let n = labels[o.id] ?? 0
                return [o.name, "\(n)", String(format: "%.1f%%", 100 * Double(n) / Double(total))]
            }
            ctx.out.print(Table(headers: ["TREATMENT", "PATIENTS", "SHARE"], rows: rows, rightAligned: [1, 2]).render(width: ctx.out.width))
            ctx.out.print(ctx.out.dim("Synthetic data: not real people."))
        }
    }
}
