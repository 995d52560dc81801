import ArgumentParser
import Cohort
import Foundation
import Learning
import Patients
import Review
import Store
import TreatmentModel

/// `rounds simulate`: the whole learning loop on the synthetic cohort, with a simulated
/// clinician, in a store of its own (the user's store is never touched).
///
/// The simulated clinician (documented in docs/learning.md): for each unseen patient it prefers
/// the option with the highest simulated utility among those no guideline contraindicates (the
/// cohort simulator's best treatment, made guideline-safe); with probability 1 − ε it chooses
/// that, otherwise one of the other allowed options at random. If its choice is the model's
/// recommendation it accepts; otherwise it overrides, for clinical judgement (85 %) or the
/// patient's preference (15 %). Its true propensities are therefore known, and learning's
/// estimated ones are compared with them.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the decide–learn loop on the synthetic cohort with a simulated clinician, and print the learning curve.",
        discussion: "Runs in a new store (--sim-db, default a temporary folder) holding the demo cohort. Decisions are recorded exactly as a clinician's are; every --learn-every decisions `learn --activate` runs. Starts from a deliberately weakened model (trained on --weak-patients of the training patients) unless --start says otherwise.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Decisions to simulate.") var decisions = 1000
    @Option(help: "Learn after every this many decisions.") var learnEvery = 200
    @Option(help: "How often the simulated clinician departs from its preferred option.") var errorRate = 0.2
    @Option(help: ArgumentHelp("weak (trained on --weak-patients of the training patients), default (the pack's model), or a model file.", valueName: "model")) var start = "weak"
    @Option(help: ArgumentHelp("Training patients the weakened model learns from.", valueName: "n")) var weakPatients = 35
    @Option(help: ArgumentHelp("Patients in the simulation's synthetic cohort (default: the demo cohort's size).", valueName: "n")) var cohort = CohortGenerator.defaultSize
    @Option(help: "Held-out patients on which every block's model is scored.") var panel = 300
    @Option(help: ArgumentHelp("The simulation's store (default: a new one in a temporary folder).", valueName: "path")) var simDb: String?
    @Option(help: "Random seed of the simulated clinician and the patient order.") var seed: UInt64 = 17
    @Option(help: ArgumentHelp("Trust region of each learning round (mean KL; `learn` uses 0.05).", valueName: "x")) var maxKL = 0.2
    @Option(name: .customLong("lr"), help: ArgumentHelp("Learning rate of each learning round.", valueName: "x")) var learningRate = PolicyLearner.Config().learningRate
    @Option(help: ArgumentHelp("Epochs of each learning round.", valueName: "n")) var epochs = PolicyLearner.Config().epochs
    @Flag(help: "Print the learning curve as JSON.") var json = false

    func validate() throws {
        guard decisions >= 1, learnEvery >= 1, (0...1).contains(errorRate), weakPatients >= 2, cohort >= 100, panel >= 0 else {
            throw ValidationError("decisions and --learn-every must be positive, --error-rate in [0, 1], --weak-patients at least 2, --cohort at least 100")
        }
    }

    struct Block: Codable {
        var block: Int; var decisions: Int; var model: String
        /// Agreement of the model's recommendation with the simulator's best option, and the mean simulated utility of the recommendation, on the block's patients and on the fixed panel.
        var agreement: Double; var utility: Double; var panelAgreement: Double; var panelUtility: Double
        var accepted: Int; var learned: String?
    }

    func run() throws {
        let path = simDb ?? FileManager.default.temporaryDirectory.appendingPathComponent("rounds-simulate-\(getpid())/sim.sqlite").path
        if FileManager.default.fileExists(atPath: path) { throw ValidationError("\(path) exists: --sim-db names a new store for the simulation") }
        var args = ["--db", path, "--clinician", "sim-clinician", "--role", "simulated"]
        if let k = global.knowledge { args += ["--knowledge", k] }
        let ctx = try Context(GlobalOptions.parse(args), seedDemo: false)
        let session = Session(context: ctx, interactive: false)
        let out = ctx.out
        let seconds = try ctx.generateCohort(size: cohort, seed: CohortGenerator.defaultSeed)
        out.note(String(format: "Simulation store: %@ (%d synthetic patients in %.1f s; the simulated clinician is `sim-clinician`).", path, cohort, seconds))
        let data = try ModelData.load(ctx, seed: TrainingConfig().seed)
        let treatments = ctx.pack.treatments.ids

        // The starting model.
        if start != "default" {
            let model: ModelFile
            if start == "weak" {
                let patients = Array(Set(data.train.examples.map(\.patientID))).sorted()
                let keep = Set(patients.prefix(weakPatients))
                let weakTrain = Dataset(examples: data.train.examples.filter { keep.contains($0.patientID) }, features: data.train.features, treatments: data.train.treatments)
                out.note("Training the weakened starting model on \(keep.count) of \(patients.count) training patients…")
                let trained = Trainer(config: TrainingConfig.weakStart).train(train: weakTrain, validation: data.validation).model
                model = ModelFile(model: trained, features: data.train.features, treatments: treatments,
                                  extra: ["version": "weak-\(keep.count)", "data": "synthetic demo cohort (not real patients), \(keep.count) training patients"])
            } else {
                model = try DefaultModel.load(path: start, pack: ctx.pack).file
            }
            let v = try ctx.store.saveModelVersion(file: try model.encode(), parentSha256: "none", lineage: #"{"summary":"simulation start (\#(start))"}"#,
                                                   audit: ctx.entry(.modelTrained, action: "C"))
            try ctx.store.activateModel(v.version, audit: ctx.entry(.modelActivated, action: "U"))
            session.modelChanged()
        }

        // Unseen patients: the validation and test splits, in a seeded order; a fixed panel from the end.
        var rng = SplitMix(seed: seed)
        var unseen = (data.validation.examples + data.test.examples).map(\.patientID)
        for i in stride(from: unseen.count - 1, to: 0, by: -1) { unseen.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        guard decisions + panel <= unseen.count else { throw ValidationError("the cohort has \(unseen.count) unseen patients: --decisions plus --panel must not exceed it") }
        let panelIDs = Array(unseen.suffix(panel))
        struct Case { var record: PatientRecord; var best: Int; var utilities: [Double] }
        func loadCase(_ id: String) throws -> Case {
            guard let r = try ctx.store.patient(id: id), let truth = try ctx.store.cohortTruth(id: id) else { throw ValidationError("patient \(id) has no simulator truth") }
            let utilities = treatments.map { t in ResponseSimulatorIndex.utility(of: t, in: truth.utilities) }
            return Case(record: r, best: treatments.firstIndex(of: truth.label) ?? 0, utilities: utilities)
        }
        let panelCases = try panelIDs.map(loadCase)
        func score(_ cases: [Case]) throws -> (agreement: Double, utility: Double) {
            guard !cases.isEmpty else { return (.nan, .nan) }
            var agree = 0.0, utility = 0.0
            for c in cases {
                let a = try PatientAnalysis(session: session, record: c.record, index: c.record.visits.count - 1)
                agree += a.top == c.best ? 1 : 0
                utility += c.utilities[a.top]
            }
            return (agree / Double(cases.count), utility / Double(cases.count))
        }

        let reasons = try session.overrideReasons()
        var truth: [String: Double] = [:]
        var blocks: [Block] = []
        let test = data.test
        var done = 0
        while done < decisions {
            let blockCases = try unseen[done..<min(decisions, done + learnEvery)].map(loadCase)
            let modelLabel = try session.model().label
            let before = try score(panelCases)
            var agree = 0.0, utility = 0.0, accepted = 0
            for c in blockCases {
                let decider = try Decider(session: session) { try PatientAnalysis(session: session, record: c.record, index: c.record.visits.count - 1) }
                let a = decider.analysis
                let allowed = a.treatments.indices.filter { a.status($0) != .contraindicated }
                let preferred = allowed.max { c.utilities[$0] < c.utilities[$1] } ?? a.top
                let others = allowed.filter { $0 != preferred }
                let deviate = !others.isEmpty && Double(rng.next() % 1_000_000) / 1_000_000 < errorRate
                let chosen = deviate ? others[Int(rng.next() % UInt64(others.count))] : preferred
                let propensity = others.isEmpty ? 1 : (chosen == preferred ? 1 - errorRate : errorRate / Double(others.count))
                agree += a.top == c.best ? 1 : 0
                utility += c.utilities[a.top]
                let d: DecisionRecord
                if chosen == a.top {
                    d = try decider.commit(chosen: a.treatments[chosen].id, reason: nil, note: "simulated", confirm: false).decision
                    accepted += 1
                } else {
                    let code = rng.next() % 100 < 85 ? "clinical-judgement" : "patient-preference"
                    d = try decider.commit(chosen: a.treatments[chosen].id, reason: reasons.reason(code: code), note: "simulated", confirm: false).decision
                }
                truth[d.id] = propensity
            }
            done += blockCases.count
            var block = Block(block: blocks.count + 1, decisions: done, model: modelLabel, agreement: agree / Double(blockCases.count),
                              utility: utility / Double(blockCases.count), panelAgreement: before.agreement, panelUtility: before.utility, accepted: accepted, learned: nil)
            if done < decisions || blocks.isEmpty {
                var round = LearningRound(session: session, test: test)
                let truthNow = truth
                round.truePropensity = { truthNow[$0.id] ?? .nan }
                do {
                    var settings = Learner.Settings()
                    settings.policy.maxKL = maxKL; settings.policy.learningRate = learningRate; settings.policy.epochs = epochs
                    let o = try round.run(settings: settings, activate: true)
                    block.learned = o.report.accepted
                        ? String(format: "v%d in use (KL %.3f, DR %.3f → %.3f, propensity error %.3f)", o.saved?.version ?? 0, o.report.meanKL,
                                 o.report.current.doublyRobust.value, o.report.candidate.doublyRobust.value, o.report.propensityError ?? .nan)
                        : "refused: " + o.report.refusals.joined(separator: "; ")
                } catch let e as ValidationError { block.learned = "not learned: \(e.message)" }
            }
            blocks.append(block)
            if !json { out.note(String(format: "block %d: %d decisions, panel agreement %.3f, %@", block.block, done, block.panelAgreement, block.learned ?? "")) }
        }
        // The final model on the panel.
        let final = try score(panelCases)
        let finalLabel = try session.model().label
        if json {
            struct View: Encodable { var blocks: [Block]; var finalModel: String; var finalPanelAgreement: Double; var finalPanelUtility: Double; var store: String; var synthetic = true }
            try out.json(View(blocks: blocks, finalModel: finalLabel, finalPanelAgreement: final.agreement, finalPanelUtility: final.utility, store: path))
            return
        }
        out.print(out.bold("Learning curve") + " · synthetic cohort, simulated clinician (error rate \(errorRate)), learning every \(learnEvery) decisions")
        var rows = blocks.map { b in
            [String(b.block), String(b.decisions), b.model, String(format: "%.3f", b.agreement), String(format: "%.3f", b.utility),
             String(format: "%.3f", b.panelAgreement), String(format: "%.3f", b.panelUtility), b.learned ?? ""]
        }
        rows.append(["end", String(decisions), finalLabel, "", "", String(format: "%.3f", final.agreement), String(format: "%.3f", final.utility), ""])
        out.print(Table(headers: ["block", "decisions", "model in use", "agreement", "utility", "panel agreement", "panel utility", "learning after the block"],
                        rows: rows, rightAligned: [1, 3, 4, 5, 6]).render(width: out.width))
        out.print("")
        out.print("panel agreement with the simulator's best option, by block:")
        let values = blocks.map(\.panelAgreement) + [final.agreement]
        for (i, v) in values.enumerated() {
            out.print(String(format: "%5@ %@ %.3f", i < blocks.count ? "\(i + 1)" : "end", Bars.bar(v, width: 40), v))
        }
        out.print(out.dim("Synthetic patients and a simulated clinician: this shows the loop works, not that it helps real patients."))
    }
}

/// The simulator's utilities are stored in `ResponseSimulator.treatments` order.
enum ResponseSimulatorIndex {
    static func utility(of treatment: String, in utilities: [Double]) -> Double {
        guard let i = ResponseSimulator.treatments.firstIndex(of: treatment), i < utilities.count else { return .nan }
        return utilities[i]
    }
}
