import ArgumentParser
import Foundation
import Guidelines
import Patients
import Review
import Store
import TreatmentModel

/// `rounds evaluate`: the model beside its baselines on the held-out test split.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score the model and its baselines on the test split of the synthetic cohort.",
        discussion: """
        Accuracy, macro precision, recall, F1 and one-vs-rest AUC-ROC (the metrics of Kukalakunta,
        Thuniki and Yellu's results table), top-2 accuracy, expected calibration error and Brier
        score, each with a 95 % bootstrap interval; then the model's per-treatment scores and its
        confusion matrix. Baselines: multinomial logistic regression on the last visit, the
        guideline rules (indications first, contraindications excluded: `GuidelineRecommender`),
        and the majority class. The split is the one the model was trained with (its seed).
        """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The model file to evaluate.", valueName: "file"))
    var model: String

    @Option(help: "Bootstrap resamples for the intervals.")
    var resamples: Int = 1000

    @Flag(help: "Print as JSON.")
    var json = false

    struct Report: Codable {
        var model: String
        var testCases: Int
        var data = "synthetic demo cohort (not real patients)"
        /// The fingerprint of the cohort scored, and whether the model was trained on this very
        /// cohort (false or nil: see `cohortWarning`).
        var cohort: String
        var trainedOnThisCohort: Bool?
        var cohortWarning: String?
        var evaluations: [Evaluation]
    }

    func run() throws {
        let ctx = try Context(global)
        let file: ModelFile
        do { file = try ModelFile.load(path: model) } catch let e as ModelFileError { throw ValidationError(e.description) }
        try ModelCompatibility.check(file, pack: ctx.pack)
        let seed = (file.extra["training_config"].flatMap { try? JSONDecoder().decode(TrainingConfig.self, from: Data($0.utf8)) })?.seed ?? TrainingConfig().seed
        let data = try ModelData.load(ctx, seed: seed, indexOnly: file.extra["training_examples"] == "index visits")
        let rules = GuidelineRecommender(book: try Session(context: ctx, interactive: false).rules())
        var byPatient: [String: [Float]] = [:]
        for e in data.test.examples {
            guard let record = try ctx.store.patient(id: e.patientID) else { continue }
            byPatient[e.patientID] = rules.recommend(PatientFacts(record: record, pack: ctx.pack)).distribution.map(Float.init)
        }
        let distributions = byPatient
        let recommenders: [@Sendable () -> any Recommender] = [
            { ModelRecommender(model: file.model) }, { LogisticRegression(train: data.train) },
            { RuleBasedRecommender(distributions: distributions, K: data.test.treatments.count) }, { MajorityClass(train: data.train) },
        ]
        // Each recommender is fitted and scored on its own core: independent work with its own
        // seeded bootstrap, so the table is the same however the cores interleave.
        let (test, resamples) = (data.test, resamples)
        let evaluations = ParallelMap.map(count: recommenders.count) { i in
            let r = recommenders[i]()
            return Evaluation.score(name: r.name, probabilities: test.examples.map(r.probabilities), labels: test.labels,
                                    treatments: test.treatments, resamples: resamples)
        }
        // The split shuffles the cohort's patients, so it is the training split only on the cohort
        // the model was trained on. On another cohort of the same seed (a different size, say),
        // patients the model learned from can fall in the test split and flatter it.
        let trainedOn = file.extra["training_cohort"]
        let warning: String? = trainedOn == data.fingerprint ? nil
            : trainedOn.map { "the model was trained on cohort \($0.prefix(8)), but this store holds synthetic cohort \(data.fingerprint.prefix(8)). Some test patients below may be patients the model learned from, so its scores can look better than they are. `rounds cohort generate` makes the default cohort" }
            ?? "the model file does not say which cohort it was trained on. Some test patients below may be patients it learned from, so its scores can look better than they are"
        if json {
            try ctx.out.json(Report(model: model, testCases: data.test.examples.count, cohort: data.fingerprint, trainedOnThisCohort: trainedOn.map { $0 == data.fingerprint },
                                    cohortWarning: warning, evaluations: evaluations))
            return
        }
        if let warning { ctx.out.note("Warning: " + warning + ".") }
        EvaluationView(evaluations: evaluations, treatments: ctx.pack.treatments.options.map(\.name), out: ctx.out).print(cases: data.test.examples.count)
        ctx.out.print(ctx.out.dim("Baselines fitted on the model's training part: \(data.train.examples.count) \(data.decisionPoints ? "decision points" : "index visits")."))
    }
}

/// The guideline recommender's distributions, looked up by patient.
struct RuleBasedRecommender: Recommender {
    let name = "guideline rules (ADA/KDIGO)"
    let distributions: [String: [Float]]
    let K: Int
    func probabilities(_ example: Dataset.Example) -> [Float] { distributions[example.patientID] ?? [Float](repeating: 1 / Float(K), count: K) }
}

/// The evaluation tables.
struct EvaluationView {
    let evaluations: [Evaluation]
    let treatments: [String]
    let out: Output

    func print(cases: Int) {
        func cell(_ e: Estimate) -> String { String(format: "%.3f (%.3f–%.3f)", e.value, e.low, e.high) }
        out.print(out.bold("Test split: \(cases) synthetic patients (not real people); 95 % bootstrap intervals"))
        let rows = evaluations.map { e -> [String] in
            let s = e.scores
            return [e.name, cell(s.accuracy), cell(s.macroPrecision), cell(s.macroRecall), cell(s.macroF1), cell(s.macroAUC),
                    cell(s.top2Accuracy), cell(s.expectedCalibrationError), cell(s.brier)]
        }
        out.print(Table(headers: ["RECOMMENDER", "ACCURACY", "MACRO PRECISION", "MACRO RECALL", "MACRO F1", "MACRO AUC-ROC", "TOP-2", "ECE", "BRIER"],
                        rows: rows).render(width: 400))
        guard let model = evaluations.first else { return }
        out.print("")
        out.print(out.bold("\(model.name), per treatment"))
        out.print(Table(headers: ["TREATMENT", "PRECISION", "RECALL", "F1", "SUPPORT"],
                        rows: model.perClass.enumerated().map { i, c in [treatments[i], String(format: "%.3f", c.precision), String(format: "%.3f", c.recall), String(format: "%.3f", c.f1), "\(c.support)"] },
                        rightAligned: [1, 2, 3, 4]).render(width: out.width))
        out.print("")
        out.print(out.bold("Confusion matrix (rows: best simulated treatment, columns: model's top choice)"))
        let short = model.perClass.map { String($0.treatment.prefix(6)) }
        out.print(Table(headers: [""] + short, rows: model.confusion.enumerated().map { i, row in [short[i]] + row.map(String.init) },
                        rightAligned: Set(1...short.count)).render(width: 400))
    }
}
