import Foundation
import Testing
@testable import Learning
import Patients
import Store
import TreatmentModel

@Suite struct OffPolicyEstimatorTests {
    // Three logged decisions over two actions, computed by hand:
    // weights π_e(a)/π_b(a) = 0.8/0.5 = 1.6, 0.5/0.25 = 2.0, 0.4/0.8 = 0.5.
    let s = [
        OffPolicySample(action: 0, reward: 1, propensity: 0.5, target: [0.8, 0.2], predicted: [0.6, 0.3]),
        OffPolicySample(action: 1, reward: 0, propensity: 0.25, target: [0.5, 0.5], predicted: [0.6, 0.3]),
        OffPolicySample(action: 0, reward: 0, propensity: 0.8, target: [0.4, 0.6], predicted: [0.6, 0.3]),
    ]

    @Test func matchHandComputedValues() {
        #expect(abs(OffPolicy.ips(s, clip: 100) - 1.6 / 3) < 1e-12)
        #expect(abs(OffPolicy.snips(s, clip: 100) - 1.6 / 4.1) < 1e-12)
        // DM: (0.8·0.6 + 0.2·0.3 + 0.5·0.6 + 0.5·0.3 + 0.4·0.6 + 0.6·0.3) / 3 = 1.41 / 3.
        #expect(abs(OffPolicy.directMethod(s) - 0.47) < 1e-12)
        // DR: 0.47 + (1.6·0.4 + 2.0·(−0.3) + 0.5·(−0.6)) / 3.
        #expect(abs(OffPolicy.doublyRobust(s, clip: 100) - (0.47 + (0.64 - 0.6 - 0.3) / 3)) < 1e-12)
        #expect(abs(OffPolicy.effectiveSampleSize([1.6, 2.0, 0.5]) - 16.81 / 6.81) < 1e-12)
    }

    @Test func clippingCapsTheWeights() {
        #expect(OffPolicy.weights(s, clip: 1.8) == [1.6, 1.8, 0.5])
        #expect(abs(OffPolicy.snips(s, clip: 1.8) - 1.6 / 3.9) < 1e-12)
    }

    @Test func theBootstrapIntervalHoldsTheEstimate() {
        let many = (0..<200).map { i in OffPolicySample(action: i % 2, reward: Double(i % 3 == 0 ? 1 : 0), propensity: 0.5, target: [0.7, 0.3], predicted: [0.3, 0.3]) }
        let iv = OffPolicy.bootstrap(many, resamples: 300) { OffPolicy.snips($0, clip: 10) }
        #expect(iv.low <= iv.value && iv.value <= iv.high && iv.high - iv.low < 0.3)
    }

    @Test func aPolicyThatCopiesTheLoggerIsValuedAtTheLoggedMean() {
        // π_e = π_b: every weight is 1, SNIPS is the mean reward.
        let same = (0..<50).map { i in OffPolicySample(action: i % 2, reward: Double(i % 5 == 0 ? 1 : 0), propensity: 0.5, target: [0.5, 0.5], predicted: [0, 0]) }
        #expect(abs(OffPolicy.snips(same, clip: 10) - 0.2) < 1e-12)
    }
}

@Suite struct PolicyLearnerTests {
    let shape = ModelShape(features: 4, embed: 4, hidden: 6, attention: 4, treatments: 3)

    func decisions(_ n: Int, seed: UInt64) -> [LoggedDecision] {
        var rng = SplitMix(seed: seed)
        func u() -> Float { Float(rng.next() % 10_000) / 5_000 - 1 }
        return (0..<n).map { i in
            let T = 2 + i % 4
            let chosen = i % 3
            let record = DecisionRecord(clinician: "c", role: nil, sessionId: "s", patient: "p\(i)", visit: T, visitDate: "2024-01-01", modelVersion: nil,
                                        modelSha256: "", knowledgeSha256: "", input: .init(visits: T, features: 4, values: (0..<(T * 4)).map { _ in u() }, visitDates: []),
                                        treatments: ["a", "b", "c"], probabilities: [0.3, 0.3, 0.4], displayedOrder: ["c", "a", "b"],
                                        guidelineStatuses: ["c": "contraindicated"], firedRules: [], recommended: "c", chosen: ["a", "b", "c"][chosen],
                                        outcome: chosen == 2 ? .accepted : .overridden,
                                        reason: chosen == 2 ? nil : .init(code: "x", display: "x", system: "s", systemCode: "x"),
                                        note: nil, contraindicatedChoice: false, reward: chosen == 0 ? -1 : (chosen == 2 ? 1 : 0), rewardRule: "")
            return LoggedDecision(record, treatments: ["a", "b", "c"])!
        }
    }

    @Test func decisionsYieldTheDocumentedSamples() {
        let ds = decisions(3, seed: 1)
        let samples = LoggedAction.samples(ds, behaviour: BehaviourPolicy(decisions: ds, treatments: ["a", "b", "c"]))
        // Overridden for a clinical reason (reward −1): the recommendation c earns −1 at the
        // shown probability 0.4, the alternative a earns +1 at the estimated propensity.
        // Overridden for preference (0): the recommendation earns 0. Accepted: +1.
        #expect(samples.map(\.action) == [2, 0, 2, 2])
        #expect(samples.map(\.reward) == [-1, 1, 0, 1])
        #expect(samples.map(\.kind) == [.recommendation, .alternative, .recommendation, .recommendation])
        #expect(abs(samples[0].propensity - 0.4) < 1e-6)
        #expect(samples[1].propensity >= BehaviourPolicy.softening / 3 && samples[1].propensity < 1)
    }

    func uniform(_ ds: [LoggedDecision], reward: (Int) -> Double) -> [LoggedAction] {
        ds.indices.map { LoggedAction(decision: $0, action: ds[$0].chosen, reward: reward(ds[$0].chosen), propensity: 1.0 / 3, kind: .alternative) }
    }

    @Test func theTrustRegionBoundsTheChange() {
        let model = TreatmentNetwork.gruAttention(GRUAttention(shape: shape, seed: 9))
        let ds = decisions(120, seed: 2)
        for lr: Float in [1e-3, 3e-2, 0.3] {
            var c = PolicyLearner.Config(); c.learningRate = lr; c.maxKL = 0.01; c.epochs = 40
            let (candidate, _) = PolicyLearner(config: c).improve(model, decisions: ds, samples: uniform(ds) { $0 == 1 ? -1 : 1 })
            let kl = PolicyLearner.meanKL(PolicyLearner.distributions(model, ds), PolicyLearner.distributions(candidate, ds))
            #expect(kl <= 0.01, "learning rate \(lr): KL \(kl)")
        }
    }

    @Test func rewardedActionsGainProbability() {
        let model = TreatmentNetwork.gruAttention(GRUAttention(shape: shape, seed: 9))
        let ds = decisions(150, seed: 3)
        var c = PolicyLearner.Config(); c.learningRate = 3e-3; c.maxKL = 0.2; c.epochs = 30
        let (candidate, steps) = PolicyLearner(config: c).improve(model, decisions: ds, samples: uniform(ds) { $0 == 1 ? -1 : 1 })
        #expect(!steps.isEmpty)
        // Actions a (index 0) and c (2) earned +1, b (1) earned −1: b loses mass.
        let before = PolicyLearner.distributions(model, ds).map { Double($0[1]) }.reduce(0, +)
        let after = PolicyLearner.distributions(candidate, ds).map { Double($0[1]) }.reduce(0, +)
        #expect(after < before)
    }

    @Test func tooFewDecisionsAreSaidToBeTooFew() {
        let model = TreatmentNetwork.gruAttention(GRUAttention(shape: shape, seed: 9))
        let test = Dataset(examples: [], features: ["f0", "f1", "f2", "f3"], treatments: ["a", "b", "c"])
        for ds in [[], Array(decisions(3, seed: 4))] {
            #expect(throws: Learner.Problem.self) { try Learner().run(current: model, decisions: ds, treatments: ["a", "b", "c"], test: test) }
        }
        do { _ = try Learner().run(current: model, decisions: Array(decisions(3, seed: 4)), treatments: ["a", "b", "c"], test: test) } catch {
            #expect("\(error)".contains("too little to learn from: 3 usable decisions from 3 patients"))
        }
    }

    @Test func theLearnerRefusesMoreContraindicatedMass() throws {
        // The model recommended the contraindicated treatment c and half the time it was accepted:
        // learning would raise c's probability, and the learner must refuse the candidate.
        let model = TreatmentNetwork.gruAttention(GRUAttention(shape: shape, seed: 9))
        var ds = decisions(150, seed: 5)
        for i in ds.indices { ds[i].recommended = 2; ds[i].chosen = i % 2 == 0 ? 2 : 0; ds[i].reward = i % 2 == 0 ? 1 : 0; ds[i].patient = "p\(i)" }
        var settings = Learner.Settings(); settings.policy.learningRate = 3e-3; settings.policy.maxKL = 0.2; settings.resamples = 50
        let test = Dataset(examples: [], features: ["f0", "f1", "f2", "f3"], treatments: ["a", "b", "c"])
        let (_, report) = try Learner(settings: settings).run(current: model, decisions: ds, treatments: ["a", "b", "c"], test: test)
        #expect(!report.accepted && report.refusals.contains { $0.contains("contraindicated") }, "\(report.refusals)")
        #expect(report.propensitiesEstimated && report.effectiveSampleSize > 0 && report.largestWeight > 0)
    }
}
