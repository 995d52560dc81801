import Foundation
import Patients
import TreatmentModel

/// The off-policy policy-gradient update with a trust region (the second training phase of
/// Kukalakunta, Thuniki and Yellu's paper, made safe for logged clinical decisions).
///
/// For each logged sample j (`LoggedAction`: context x_j, action a_j, reward r_j, logging
/// propensity μ_j), the update ascends
///
///     J(θ) = (1/n) Σ_j w_j (r_j − b) log π_θ(a_j | x_j)  −  β · (1/n) Σ_j KL(π_0(·|x_j) ‖ π_θ(·|x_j))
///
/// with w_j = min(c, π_θ(a_j|x_j) / μ_j) the clipped importance weight at the current θ
/// (so the gradient of the first term is the importance-weighted policy gradient
/// Σ w (r − b) ∇ log π_θ(a)), b a baseline (`Config.baseline`, 0 by default: rewards are
/// already centred, +1 for endorsed and −1 for rejected actions), and π_0 the current model. The trust region: after every epoch the mean KL from π_0 over the learning
/// decisions is measured, and an epoch that takes it past `maxKL` is undone and learning stops,
/// so a few hundred decisions move the model a little, never wildly. A third term,
/// −λ · (1/n) Σ_j P_θ(contraindicated | x_j), the probability the model puts on treatments a
/// guideline contraindicated for that patient, keeps learning from raising it.
public struct PolicyLearner: Sendable {
    public struct Config: Sendable, Codable {
        public var learningRate: Float = 1e-3
        public var epochs = 30
        public var batchSize = 32
        /// The KL penalty β and the trust region's bound on the mean KL(π_0 ‖ π_θ).
        public var klPenalty: Float = 1.0
        public var maxKL = 0.05
        /// Importance weights are clipped here.
        public var clip = 10.0
        public var seed: UInt64 = 3
        /// The reward baseline b.
        public var baseline = 0.0
        /// λ, the weight of the contraindicated probability in the loss.
        public var contraindicationPenalty: Float = 1.0
        public init() {}
    }

    public struct Step: Sendable, Codable { public var epoch: Int; public var meanKL: Double; public var objective: Double }

    public let config: Config
    public init(config: Config = Config()) { self.config = config }

    /// Returns the candidate and the epochs it went through.
    public func improve(_ model: TreatmentNetwork, decisions: [LoggedDecision], samples: [LoggedAction]) -> (model: TreatmentNetwork, steps: [Step]) {
        guard !decisions.isEmpty, !samples.isEmpty else { return (model, []) }
        let F = model.shape.features, K = model.shape.treatments
        let reference = Self.distributions(model, decisions)
        let baseline = config.baseline
        var current = model
        var adam = Adam(count: model.parameters.count, learningRate: config.learningRate)
        var rng = SplitMix(seed: config.seed)
        var steps: [Step] = []
        for epoch in 1...max(1, config.epochs) {
            let saved = current.parameters
            var order = Array(samples.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var objective = 0.0
            for start in stride(from: 0, to: order.count, by: config.batchSize) {
                let idx = Array(order[start..<min(order.count, start + config.batchSize)])
                let pass = current.forward(SequenceBatch(sequences: idx.map { decisions[samples[$0].decision].input }, features: F))
                var dLogits = [Float](repeating: 0, count: idx.count * K)
                for (b, j) in idx.enumerated() {
                    let s = samples[j]
                    let p = pass.probabilities(b), p0 = reference[s.decision], a = s.action
                    let w = min(config.clip, Double(p[a]) / s.propensity)
                    let advantage = Float(w * (s.reward - baseline))
                    objective += w * (s.reward - baseline) * log(max(Double(p[a]), 1e-12))
                    let barred = decisions[s.decision].contraindicated
                    let barredMass = barred.reduce(Float(0)) { $0 + p[$1] }
                    for k in 0..<K {
                        // Minimizing −J: d/dz of −w(r−b) log p_a is −w(r−b)(e_a − p); of β KL(p0‖p) is β(p − p0);
                        // of λ Σ_{c barred} p_c is λ (p_k [k barred] − p_k Σ_c p_c).
                        let pg = -advantage * ((k == a ? 1 : 0) - p[k])
                        let safety = config.contraindicationPenalty * ((barred.contains(k) ? p[k] : 0) - p[k] * barredMass)
                        dLogits[b * K + k] = (pg + config.klPenalty * (p[k] - p0[k]) + safety) / Float(idx.count)
                    }
                }
                var g = current.backward(pass, dLogits: dLogits).parameters
                Adam.clip(&g, maxNorm: 5)
                adam.update(&current.parameters, g)
            }
            let kl = Self.meanKL(reference, Self.distributions(current, decisions))
            if kl > config.maxKL {
                current.parameters = saved
                break
            }
            steps.append(Step(epoch: epoch, meanKL: kl, objective: objective / Double(samples.count)))
        }
        return (current, steps)
    }

    /// The model's distribution for each decision's input.
    public static func distributions(_ model: TreatmentNetwork, _ decisions: [LoggedDecision]) -> [[Float]] {
        var out: [[Float]] = []
        out.reserveCapacity(decisions.count)
        for start in stride(from: 0, to: decisions.count, by: 64) {
            let chunk = Array(decisions[start..<min(decisions.count, start + 64)])
            let pass = model.forward(SequenceBatch(sequences: chunk.map(\.input), features: model.shape.features))
            for b in chunk.indices { out.append(pass.probabilities(b)) }
        }
        return out
    }

    /// Mean KL(p ‖ q) over rows.
    public static func meanKL(_ p: [[Float]], _ q: [[Float]]) -> Double {
        guard !p.isEmpty else { return 0 }
        var total = 0.0
        for (a, b) in zip(p, q) {
            for k in a.indices where a[k] > 0 { total += Double(a[k]) * (log(Double(a[k])) - log(max(Double(b[k]), 1e-30))) }
        }
        return total / Double(p.count)
    }
}
