import Foundation
import Patients
import TreatmentModel

/// `rounds learn`: from logged decisions to a candidate model and the evidence for or against
/// it, before anything changes. Nothing here activates a model; the caller decides on the
/// verdict.
public struct Learner: Sendable {
    public struct Settings: Sendable, Codable {
        public var policy = PolicyLearner.Config()
        /// Share of patients whose decisions are held out for evaluation.
        public var heldOut = 0.3
        /// The most supervised macro F1 may fall on the cohort's test split.
        public var f1Tolerance = 0.02
        /// Fewest learning decisions, and fewest distinct patients, worth learning from.
        public var minimumDecisions = 20
        public var minimumPatients = 10
        public var resamples = 500
        public init() {}
    }

    public struct Report: Sendable, Codable {
        public struct PolicyValue: Sendable, Codable { public var snips: OffPolicy.Interval; public var doublyRobust: OffPolicy.Interval; public var directMethod: Double }
        public var decisions: Int
        public var learnDecisions: Int
        public var heldOutDecisions: Int
        public var patients: Int
        public var propensitiesEstimated = true
        public var propensityModel = "recommendations: the model's displayed probability; clinicians' alternatives: multinomial logistic regression on the last visit and the displayed distribution, softened ε = 0.05"
        public var effectiveSampleSize: Double
        public var largestWeight: Double
        public var unsupported: [String]
        public var current: PolicyValue
        public var candidate: PolicyValue
        public var currentMacroF1: Double
        public var candidateMacroF1: Double
        public var currentContraindicatedMass: Double
        public var candidateContraindicatedMass: Double
        public var meanKL: Double
        public var steps: [PolicyLearner.Step]
        /// Mean |π̂_b − π_b| of the clinicians' chosen treatments, where the true propensities are known (simulation).
        public var propensityError: Double?
        public var refusals: [String]
        public var accepted: Bool { refusals.isEmpty }
    }

    public enum Problem: Error, CustomStringConvertible {
        case tooFew(decisions: Int, patients: Int, needed: Int, neededPatients: Int)
        public var description: String {
            switch self {
            case .tooFew(let d, let p, let n, let np):
                return "too little to learn from: \(d) usable decision\(d == 1 ? "" : "s") from \(p) patient\(p == 1 ? "" : "s") (at least \(n) decisions from \(np) patients are needed, some held out to evaluate on)"
            }
        }
    }

    public let settings: Settings
    public init(settings: Settings = Settings()) { self.settings = settings }

    /// Learns a candidate from `decisions`, evaluates it and the current model on the held-out
    /// decisions and on the supervised test split, and says whether it may replace the current.
    public func run(current: TreatmentNetwork, decisions all: [LoggedDecision], treatments: [String], test: Dataset,
                    truePropensity: ((LoggedDecision) -> Double)? = nil) throws -> (candidate: TreatmentNetwork, report: Report) {
        let patients = Set(all.map(\.patient)).count
        let (learn, held) = DecisionSplit.split(all, heldOut: settings.heldOut)
        guard learn.count >= settings.minimumDecisions, patients >= settings.minimumPatients, !held.isEmpty else {
            throw Problem.tooFew(decisions: all.count, patients: patients, needed: settings.minimumDecisions, neededPatients: settings.minimumPatients)
        }
        let K = treatments.count
        let behaviour = BehaviourPolicy(decisions: learn, treatments: treatments)
        let learnSamples = LoggedAction.samples(learn, behaviour: behaviour)
        let (candidate, steps) = PolicyLearner(config: settings.policy).improve(current, decisions: learn, samples: learnSamples)

        // Off-policy values on the held-out decisions' samples, propensities as in learning.
        let rewards = RewardModel(samples: learnSamples, treatments: K)
        let heldSamples = LoggedAction.samples(held, behaviour: behaviour)
        func samples(_ m: TreatmentNetwork) -> [OffPolicySample] {
            let ps = PolicyLearner.distributions(m, held)
            return heldSamples.map { s in
                OffPolicySample(action: s.action, reward: s.reward, propensity: s.propensity, target: ps[s.decision].map(Double.init), predicted: rewards.perAction)
            }
        }
        let clip = settings.policy.clip
        func value(_ s: [OffPolicySample]) -> Report.PolicyValue {
            Report.PolicyValue(snips: OffPolicy.bootstrap(s, resamples: settings.resamples) { OffPolicy.snips($0, clip: clip) },
                               doublyRobust: OffPolicy.bootstrap(s, resamples: settings.resamples) { OffPolicy.doublyRobust($0, clip: clip) },
                               directMethod: OffPolicy.directMethod(s))
        }
        let candidateSamples = samples(candidate)
        let weights = OffPolicy.weights(candidateSamples, clip: clip)
        let chosenActions = Set(all.map(\.chosen))
        let candidateMass = (0..<K).map { k in candidateSamples.map { $0.target[k] }.reduce(0, +) / Double(max(1, candidateSamples.count)) }
        let unsupported = (0..<K).filter { !chosenActions.contains($0) && candidateMass[$0] > 0.01 }.map { treatments[$0] }

        // Supervised metrics on the cohort's test split.
        func macroF1(_ m: TreatmentNetwork) -> Double {
            guard !test.examples.isEmpty else { return .nan }
            let predicted = test.examples.map { Metrics.argmax(ModelRecommender(model: m).probabilities($0)) }
            return Metrics.macroF1(predicted, test.labels, K: K)
        }
        // Probability on contraindicated treatments, over every logged context.
        func contraindicatedMass(_ m: TreatmentNetwork) -> Double {
            let ps = PolicyLearner.distributions(m, all)
            return zip(all, ps).map { d, p in d.contraindicated.map { Double(p[$0]) }.reduce(0, +) }.reduce(0, +) / Double(all.count)
        }
        var report = Report(
            decisions: all.count, learnDecisions: learn.count, heldOutDecisions: held.count, patients: patients,
            effectiveSampleSize: OffPolicy.effectiveSampleSize(weights), largestWeight: weights.max() ?? 0, unsupported: unsupported,
            current: value(samples(current)), candidate: value(candidateSamples),
            currentMacroF1: macroF1(current), candidateMacroF1: macroF1(candidate),
            currentContraindicatedMass: contraindicatedMass(current), candidateContraindicatedMass: contraindicatedMass(candidate),
            // The last kept epoch measured it; with none kept the candidate is the current model.
            meanKL: steps.last?.meanKL ?? 0, steps: steps,
            propensityError: truePropensity.map { truth in
                all.map { abs(behaviour.probabilities($0)[$0.chosen] - truth($0)) }.reduce(0, +) / Double(all.count)
            },
            refusals: [])
        if steps.isEmpty { report.refusals.append("the trust region stopped the first epoch: the candidate is the current model") }
        if report.candidateMacroF1 < report.currentMacroF1 - settings.f1Tolerance {
            report.refusals.append(String(format: "supervised macro F1 falls from %.3f to %.3f (more than the %.3f allowed)", report.currentMacroF1, report.candidateMacroF1, settings.f1Tolerance))
        }
        if report.candidateContraindicatedMass > report.currentContraindicatedMass + 1e-6 {
            report.refusals.append(String(format: "more probability on contraindicated treatments (%.4f, now %.4f)", report.candidateContraindicatedMass, report.currentContraindicatedMass))
        }
        return (candidate, report)
    }
}
