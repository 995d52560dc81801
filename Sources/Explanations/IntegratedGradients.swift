import Foundation
import TreatmentModel

/// Integrated gradients (Sundararajan, Taly & Yan 2017) of one treatment's probability with
/// respect to the standardized input the model saw, as Captum's `IntegratedGradients` computes
/// them: attribution = (x − baseline) · Σ_i weight_i · ∂p_k/∂x at baseline + alpha_i (x − baseline).
/// All the path points go through one batched forward and backward pass (`pathGradients`).
public struct IntegratedGradients<Model: PathDifferentiable>: Sendable {
    public let model: Model

    public init(model: Model) { self.model = model }

    public struct Result: Sendable {
        /// `[T·F]`, visit-major, the same layout as the input.
        public var attributions: [Double]
        /// sum(attributions) − (p_k(x) − p_k(baseline)): how far the sum misses completeness.
        public var delta: Double
        public var target: Int
        public var rule: IntegrationRule
        public var steps: Int
        public var probabilityAtInput: Double
        public var probabilityAtBaseline: Double
        public var change: Double { probabilityAtInput - probabilityAtBaseline }
        /// |delta| as a fraction of |p_k(x) − p_k(baseline)|.
        public var relativeDelta: Double { abs(delta) / max(abs(change), 1e-12) }
    }

    /// IG of `target` for the standardized sequence `x` (`[T·F]`) against `baseline` (zeros by default).
    public func attribute(_ x: [Float], target: Int, baseline: [Float]? = nil, rule: IntegrationRule = .gaussLegendre, steps: Int = 50) -> Result {
        let F = model.featuresPerVisit, K = model.outputs
        let base = baseline ?? [Float](repeating: 0, count: x.count)
        precondition(base.count == x.count && x.count % F == 0, "input and baseline must be T × F")
        let (alphas, weights) = rule.points(steps)
        // The path points, then the two ends (weight 0: values only) for the convergence delta.
        let path = model.pathGradients(from: base, to: x, alphas: alphas.map { Float($0) } + [1, 0],
                                       weights: weights.map { Float($0) } + [0, 0], target: target)
        let attributions = zip(path.weightedGradient, zip(x, base)).map { Double($0) * Double($1.0 - $1.1) }
        let P = alphas.count
        let pInput = Double(path.probabilities[P * K + target]), pBase = Double(path.probabilities[(P + 1) * K + target])
        return Result(attributions: attributions, delta: attributions.reduce(0, +) - (pInput - pBase), target: target, rule: rule,
                      steps: steps, probabilityAtInput: pInput, probabilityAtBaseline: pBase)
    }

    /// Raises the steps (doubling from `start`, up to `cap`) until |delta| is within `tolerance`
    /// of the probability change; returns the last result, which says how many steps it took.
    public func attributeUntilComplete(_ x: [Float], target: Int, baseline: [Float]? = nil, rule: IntegrationRule = .gaussLegendre,
                                       start: Int = 50, cap: Int = 1600, tolerance: Double = 0.01) -> Result {
        var steps = start
        var r = attribute(x, target: target, baseline: baseline, rule: rule, steps: steps)
        while r.relativeDelta > tolerance && steps < cap {
            steps = min(steps * 2, cap)
            r = attribute(x, target: target, baseline: baseline, rule: rule, steps: steps)
        }
        return r
    }
}
