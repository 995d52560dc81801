import ArgumentParser
import Foundation
import Guidelines
import Patients
import Review
import Store
import TreatmentModel
import Cohort

/// `rounds evaluate`: the model beside its baselines on the held-out test split.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score the model and its baselines on the test split of the synthetic cohort.",
        discussion: """
        Accuracy, macro precision, recall, F1 and one-vs-rest AUC-ROC (the metrics of Kukalakunta,
        Thuniki and Yellu's results table), top-2 accuracy, expected calibration error and Brier
        score, each with a 95 % bootstrap interval; then the model's per-treatment scores and its
        confusion matrix. Baselines: gradient-boosted trees (XGBoost) on the last visit plus
        history aggregates, fitted here on the training part with depth and rounds chosen on the
        validation part; multinomial logistic regression on the last visit; the guideline rules
        (indications first, contraindications excluded: `GuidelineRecommender`); the majority
        class. The split is the one the model was trained with (its seed).

        Then, for every recommender, regret: the mean simulated utility lost by following its
        top choice instead of the best option (a top choice the guidelines contraindicate costs
        1.0 more); ECE on the patients whose top probability is below 0.9 and class by class;
        the model minus the best baseline on the same patients (paired bootstrap) for macro F1
        and regret; and the deletion test of the model's attention: how much its distribution
        changes (total variation) when the 1 or 3 visits it attends to most are removed, against
        as many random visits, and how often attention peaks on the last visit.
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
        /// The model minus the best baseline on the same patients (paired bootstrap).
        var comparisons: [Comparison]?
        var deletionTest: DeletionTest.Report?
        /// Utility charged in regret for a contraindicated top choice.
        var contraindicationPenalty: Double?
    }

    func run() throws {
        let ctx = try Context(global)
        let file: ModelFile
        do { file = try ModelFile.load(path: model) } catch let e as ModelFileError { throw ValidationError(e.description) }
        let columns = try ModelCompatibility.check(file, pack: ctx.pack)
        let seed = (file.extra["training_config"].flatMap { try? JSONDecoder().decode(TrainingConfig.self, from: Data($0.utf8)) })?.seed ?? TrainingConfig().seed
        let data = try ModelData.load(ctx, seed: seed, indexOnly: file.extra["training_examples"] == "index visits")
        let rules = GuidelineRecommender(book: try Session(context: ctx, interactive: false).rules())
        let treatments = data.test.treatments
        // Per test patient: the guideline recommender's distribution, which options the
        // guidelines contraindicate (regret charges them), and the simulator's utilities.
        var byPatient: [String: [Float]] = [:]
        var contraindicated: [[Bool]] = []
        var utilities: [[Double]]? = []
        for e in data.test.examples {
            let truth = try ctx.store.cohortTruth(id: e.patientID)
            if let u = truth?.utilities, u.count == ResponseSimulator.treatments.count {
                utilities?.append(treatments.map { ResponseSimulatorIndex.utility(of: $0, in: u) })
            } else { utilities = nil }
            guard let record = try ctx.store.patient(id: e.patientID) else { contraindicated.append(treatments.map { _ in false }); continue }
            let facts = PatientFacts(record: record, pack: ctx.pack)
            byPatient[e.patientID] = rules.recommend(facts).distribution.map(Float.init)
            let statuses = rules.checker.check(facts).statuses
            contraindicated.append(treatments.map { statuses[$0] == .contraindicated })
        }
        let distributions = byPatient
        let (train, validation, pack) = (data.train, data.validation, ctx.pack)
        let recommenders: [@Sendable () throws -> any Recommender] = [
            { ModelRecommender(model: file.model, columns: columns) },
            { try GradientBoostedTrees(train: train, validation: validation, aggregates: HistoryAggregates(pack: pack)) },
            { LogisticRegression(train: train) },
            { RuleBasedRecommender(distributions: distributions, K: treatments.count) }, { MajorityClass(train: train) },
        ]
        // Each recommender is fitted and scored on its own core: independent work with its own
        // seeded bootstrap, so the table is the same however the cores interleave.
        let (test, resamples, scoredUtilities, flags) = (data.test, resamples, utilities, contraindicated)
        let scored = ParallelMap.map(count: recommenders.count) { i -> Result<(Evaluation, [Int]), Error> in
            Result {
                let r = try recommenders[i]()
                let p = r.probabilities(batch: test.examples)
                return (Evaluation.score(name: r.name, probabilities: p, labels: test.labels, treatments: treatments,
                                         utilities: scoredUtilities, contraindicated: flags, resamples: resamples), p.map(Metrics.argmax))
            }
        }
        let results = try scored.map { try $0.get() }
        let evaluations = results.map(\.0)
        let comparisons = Comparison.modelAgainstBestBaselines(results, labels: test.labels, K: treatments.count,
                                                               utilities: utilities, contraindicated: contraindicated, resamples: resamples)
        let deletion = DeletionTest.run(sequences: test.examples.map(\.rows), resamples: resamples, predictor: ModelPredictor(model: file.model, columns: columns).predict)
        // The split shuffles the cohort's patients, so it is the training split only on the cohort
        // the model was trained on. On another cohort of the same seed (a different size, say),
        // patients the model learned from can fall in the test split and flatter it.
        let trainedOn = file.extra["training_cohort"]
        let warning: String? = trainedOn == data.fingerprint ? nil
            : trainedOn.map { "the model was trained on cohort \($0.prefix(8)), but this store holds synthetic cohort \(data.fingerprint.prefix(8)). Some test patients below may be patients the model learned from, so its scores can look better than they are. `rounds cohort generate` makes the default cohort" }
            ?? "the model file does not say which cohort it was trained on. Some test patients below may be patients it learned from, so its scores can look better than they are"
        if json {
            try ctx.out.json(Report(model: model, testCases: data.test.examples.count, cohort: data.fingerprint, trainedOnThisCohort: trainedOn.map { $0 == data.fingerprint },
                                    cohortWarning: warning, evaluations: evaluations, comparisons: comparisons, deletionTest: deletion,
                                    contraindicationPenalty: Metrics.contraindicationPenalty))
            return
        }
        if let warning { ctx.out.note("Warning: " + warning + ".") }
        let view = EvaluationView(evaluations: evaluations, treatments: ctx.pack.treatments.options.map(\.name), out: ctx.out)
        view.print(cases: data.test.examples.count)
        view.printDecisionScores(comparisons: comparisons, deletion: deletion)
        ctx.out.print(ctx.out.dim("Baselines fitted on the model's training part: \(data.train.examples.count) \(data.decisionPoints ? "decision points" : "index visits")."))
    }
}

/// The model as the deletion test sees it: raw rows in, distribution and attention out.
struct ModelPredictor: Sendable {
    let model: TreatmentNetwork
    let columns: [Int]?
    @Sendable func predict(_ rows: [[Float]]) -> (probabilities: [Float], attention: [Float]) {
        let own = columns.map { Dataset.project(rows, $0) } ?? rows
        let pass = model.forward(SequenceBatch(sequences: [model.standardize(own)], features: model.shape.features))
        return (pass.probabilities(0), pass.attentionWeights(0))
    }
}

/// A difference between the model and a baseline on the same test patients.
struct Comparison: Codable {
    var metric: String
    var model: String
    var baseline: String
    /// model − baseline, with its paired-bootstrap 95 % interval.
    var difference: Estimate

    /// Macro F1 against the baseline of highest macro F1, regret against the baseline of lowest
    /// regret (the first evaluation is the model's).
    static func modelAgainstBestBaselines(_ results: [(Evaluation, [Int])], labels: [Int], K: Int, utilities: [[Double]]?,
                                          contraindicated: [[Bool]], resamples: Int) -> [Comparison] {
        guard let (model, modelPred) = results.first, results.count > 1 else { return [] }
        let baselines = results.dropFirst()
        var out: [Comparison] = []
        if let (best, bestPred) = baselines.max(by: { $0.0.scores.macroF1.value < $1.0.scores.macroF1.value }) {
            let d = PairedBootstrap.interval(count: labels.count, resamples: resamples) { idx in
                let y = idx.map { labels[$0] }
                return Metrics.macroF1(idx.map { modelPred[$0] }, y, K: K) - Metrics.macroF1(idx.map { bestPred[$0] }, y, K: K)
            }
            out.append(Comparison(metric: "macro F1", model: model.name, baseline: best.name, difference: d))
        }
        if let utilities, let (best, bestPred) = baselines.min(by: { ($0.0.scores.regret?.value ?? .infinity) < ($1.0.scores.regret?.value ?? .infinity) }) {
            let a = Metrics.regrets(modelPred, utilities: utilities, contraindicated: contraindicated)
            let b = Metrics.regrets(bestPred, utilities: utilities, contraindicated: contraindicated)
            let d = PairedBootstrap.interval(count: labels.count, resamples: resamples) { idx in Metrics.mean(a, at: idx) - Metrics.mean(b, at: idx) }
            out.append(Comparison(metric: "regret", model: model.name, baseline: best.name, difference: d))
        }
        return out
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

    /// Regret, calibration where the choice is hard, the paired comparisons and the deletion test.
    func printDecisionScores(comparisons: [Comparison], deletion: DeletionTest.Report) {
        func cell(_ e: Estimate?) -> String { e.map { String(format: "%.3f (%.3f–%.3f)", $0.value, $0.low, $0.high) } ?? "–" }
        out.print("")
        out.print(out.bold("Decisions: regret (simulated utility lost by following the top choice; a contraindicated top choice also costs \(String(format: "%.1f", Metrics.contraindicationPenalty))) and calibration where the choice is hard (top probability < 0.9)"))
        out.print(Table(headers: ["RECOMMENDER", "REGRET", "CONTRAINDICATED TOP", "ECE (TOP < 0.9)", "SHARE TOP < 0.9"],
                        rows: evaluations.map { e in
                            [e.name, cell(e.scores.regret), e.contraindicatedTopShare.map { String(format: "%.3f", $0) } ?? "–",
                             cell(e.scores.expectedCalibrationErrorUncertain), e.uncertainShare.map { String(format: "%.3f", $0) } ?? "–"]
                        }).render(width: 400))
        if let model = evaluations.first {
            out.print("")
            out.print(out.bold("\(model.name), class-wise calibration error"))
            out.print(Table(headers: ["TREATMENT", "ALL", "TOP < 0.9"],
                            rows: model.perClass.enumerated().map { i, c in
                                [treatments[i], c.calibrationError.map { String(format: "%.3f", $0) } ?? "–", c.calibrationErrorUncertain.map { String(format: "%.3f", $0) } ?? "–"]
                            }, rightAligned: [1, 2]).render(width: out.width))
        }
        if !comparisons.isEmpty {
            out.print("")
            out.print(out.bold("Model − best baseline, same patients (paired bootstrap)"))
            out.print(Table(headers: ["METRIC", "BASELINE", "DIFFERENCE (95 % CI)", "READS"],
                            rows: comparisons.map { c in
                                let better = c.metric == "regret" ? c.difference.high < 0 : c.difference.low > 0
                                let worse = c.metric == "regret" ? c.difference.low > 0 : c.difference.high < 0
                                return [c.metric, c.baseline, String(format: "%+.3f (%+.3f to %+.3f)", c.difference.value, c.difference.low, c.difference.high),
                                        better ? "model better" : (worse ? "baseline better" : "no clear difference")]
                            }).render(width: 400))
        }
        out.print("")
        out.print(out.bold("Deletion test: change of the model's distribution (total variation) on removing visits, \(deletion.sequences) patients with 2+ visits"))
        out.print(Table(headers: ["VISITS REMOVED", "PATIENTS", "TOP ATTENTION", "RANDOM", "DIFFERENCE"],
                        rows: deletion.results.map { r in ["\(r.k)", "\(r.sequences)", cell(r.topAttention), cell(r.random), cell(r.difference)] }).render(width: 400))
        out.print(String(format: "Attention peaks on the last visit for %.1f %% of patients (%.1f–%.1f); mean weight there %.3f.",
                         100 * deletion.peakOnLastVisit.value, 100 * deletion.peakOnLastVisit.low, 100 * deletion.peakOnLastVisit.high, deletion.meanWeightOnLastVisit.value))
    }
}
