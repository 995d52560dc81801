import ArgumentParser
import Foundation
import Learning
import Patients
import Store
import TreatmentModel

/// `rounds learn`: a candidate model from the recorded decisions, with the evidence, saved as
/// a new version only if it passes the guards, and in use only by `--activate` or `model use`.
struct LearnCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn",
        abstract: "Fine-tune the model from the recorded decisions (off-policy, trust region) and report the evidence before anything changes.",
        discussion: """
            Decisions are split by patient into a part to learn from and a held-out part. The clinicians' behaviour policy is \
            estimated (a softened multinomial logistic regression; propensities are estimated, not known). On the held-out \
            decisions it reports the current and the candidate policy's value by self-normalised importance sampling and a doubly \
            robust estimator with bootstrap intervals, the effective sample size, the largest weight and any treatment without \
            support; on the cohort's test split, both models' macro F1. A candidate whose macro F1 falls by more than the tolerance, \
            or which puts more probability on contraindicated treatments, is refused. An accepted one is saved as a new version \
            with its lineage; it is used only after `--activate` or `model use VERSION`.
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Put the candidate in use at once if it passes (audited).") var activate = false
    @Option(help: ArgumentHelp("The most supervised macro F1 may fall.", valueName: "x")) var tolerance = Learner.Settings().f1Tolerance
    @Option(help: ArgumentHelp("Trust region: the most mean KL(current ‖ candidate) over the learning decisions.", valueName: "x")) var maxKL = PolicyLearner.Config().maxKL
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        guard tolerance >= 0, tolerance < 1 else { throw ValidationError("--tolerance is a drop in macro F1 between 0 and 1, not \(tolerance)") }
        guard maxKL > 0 else { throw ValidationError("--max-kl must be positive, not \(maxKL)") }
    }

    func run(in session: Session) throws {
        var settings = Learner.Settings()
        settings.f1Tolerance = tolerance
        settings.policy.maxKL = maxKL
        let outcome = try LearningRound(session: session, test: ModelData.testSplit(session.context)).run(settings: settings, activate: activate)
        if json { try session.out.json(outcome.report) } else { outcome.print(session.out) }
        if !outcome.report.accepted { throw ExitCode(1) }
    }
}

/// One round of learning on the store's decisions, shared by `learn` and `simulate`.
struct LearningRound {
    let session: Session
    let test: Dataset
    var truePropensity: ((LoggedDecision) -> Double)? = nil

    struct Outcome {
        var report: Learner.Report
        var saved: ModelVersion?
        var activated: Bool

        func print(_ out: Output) {
            let r = report
            out.print(out.bold("Learning from \(r.decisions) decisions (\(r.patients) patients): \(r.learnDecisions) to learn from, \(r.heldOutDecisions) held out"))
            out.print(out.yellow("Propensities are estimated (\(r.propensityModel)), not known.") + String(format: " Effective sample size %.1f of %d; largest weight %.2f.", r.effectiveSampleSize, r.heldOutDecisions, r.largestWeight))
            if let e = r.propensityError { out.print(String(format: "Estimated vs the simulated clinician's true propensities: mean |error| %.3f on the chosen treatments.", e)) }
            if !r.unsupported.isEmpty { out.print(out.yellow("No logged decision chose: \(r.unsupported.joined(separator: ", ")); estimates for policies that choose them are unsupported.")) }
            func iv(_ i: OffPolicy.Interval) -> String { String(format: "%.3f (%.3f–%.3f)", i.value, i.low, i.high) }
            let rows = [["current", iv(r.current.snips), iv(r.current.doublyRobust), String(format: "%.3f", r.current.directMethod), String(format: "%.3f", r.currentMacroF1), String(format: "%.4f", r.currentContraindicatedMass)],
                        ["candidate", iv(r.candidate.snips), iv(r.candidate.doublyRobust), String(format: "%.3f", r.candidate.directMethod), String(format: "%.3f", r.candidateMacroF1), String(format: "%.4f", r.candidateContraindicatedMass)]]
            out.print(Table(headers: ["policy", "value SNIPS (95% CI)", "value DR (95% CI)", "DM", "macro F1 (test)", "contraindicated mass"], rows: rows).render(width: out.width))
            out.print(out.dim("Value: the expected reward of following the policy, estimated from the held-out decisions (an accepted recommendation +1, one overridden for a medical reason −1; higher is better): self-normalised importance sampling (SNIPS), doubly robust (DR), and the reward model alone (DM). Contraindicated mass: the average probability on options a guideline ruled out for that patient."))
            out.print(String(format: "Trust region: mean KL(current ‖ candidate) %.4f after %d epoch(s).", r.meanKL, r.steps.count))
            if r.currentMacroF1.isNaN { out.print(out.yellow("The store holds no labelled synthetic cohort, so the supervised macro F1 check was skipped.")) }
            if r.accepted {
                if let v = saved { out.print(out.bold("Saved as model version \(v.version)") + " (sha256 \(v.sha256.prefix(12)), parent \(v.parentSha256.prefix(12)))." + (activated ? " In use now." : " `model use \(v.version)` puts it in use.")) }
            } else {
                out.print(out.red(out.bold("Refused:")) + " " + r.refusals.joined(separator: "; ") + ". Nothing was saved; the model in use is unchanged.")
            }
        }
    }

    func run(settings: Learner.Settings, activate: Bool) throws -> Outcome {
        let ids = session.pack.treatments.ids
        let decisions = try session.store.allDecisions().compactMap { LoggedDecision($0, treatments: ids) }
        let current = try session.model()
        let (candidate, report): (TreatmentNetwork, Learner.Report)
        do {
            (candidate, report) = try Learner(settings: settings).run(current: current.file.model, decisions: decisions, treatments: ids,
                                                                      test: try test.projected(onto: current.file.features),
                                                                      truePropensity: truePropensity)
        } catch let e as Learner.Problem { throw ValidationError(e.description) }
        var outcome = Outcome(report: report, saved: nil, activated: false)
        guard report.accepted else { return outcome }
        let summary = "learned from \(report.decisions) decisions; " + String(format: "DR value %.3f → %.3f; macro F1 %.3f → %.3f", report.current.doublyRobust.value,
                                                                              report.candidate.doublyRobust.value, report.currentMacroF1, report.candidateMacroF1)
        var extra = current.file.extra
        extra["version"] = "learned-\(ClinicalCalendar.dayString(Date()))-\(report.decisions)d"
        extra["parent_sha256"] = current.sha256
        extra["lineage"] = summary
        extra["data"] = (current.file.extra["data"] ?? "") + "; fine-tuned on recorded decisions"
        let bytes = try ModelFile(model: candidate, features: current.file.features, treatments: current.file.treatments, extra: extra).encode()
        struct Lineage: Encodable { var summary: String; var parentSha256: String; var decisions: [String]; var settings: Learner.Settings; var report: Learner.Report }
        let lineage = try String(decoding: JSONEncoder.sorted.encode(Lineage(summary: summary, parentSha256: current.sha256, decisions: decisions.map(\.id),
                                                                             settings: settings, report: report)), as: UTF8.self)
        outcome.saved = try session.store.saveModelVersion(file: bytes, parentSha256: current.sha256, lineage: lineage,
                                                           audit: session.context.entry(.modelTrained, action: "C", detail: ["decisions": String(report.decisions)]))
        if activate, let v = outcome.saved {
            try session.store.activateModel(v.version, audit: session.context.entry(.modelActivated, action: "U"))
            session.modelChanged()
            outcome.activated = true
        }
        return outcome
    }
}

extension ModelData {
    /// The cohort's test split (index visits), or an empty set when the store holds no labelled cohort.
    static func testSplit(_ ctx: Context) -> Dataset {
        (try? load(ctx, seed: TrainingConfig().seed, indexOnly: true).test) ?? Dataset(examples: [], features: ctx.pack.features.columns, treatments: ctx.pack.treatments.ids)
    }
}
