import Foundation
import Testing
@testable import Explanations
import TreatmentModel
import TestSupport
import Patients
import Cohort

/// Integrated gradients against Captum's on the contract's reference models and case.
@Suite struct CaptumReferenceTests {
    static let reference = TestSupport.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/spec/reference")

    @Test(arguments: [("model.safetensors", "explanation.json"), ("model_sharp.safetensors", "explanation_sharp.json")])
    func matchesCaptum(model: String, explanation: String) throws {
        let file = try ModelFile.load(path: Self.reference.appendingPathComponent(model).path)
        let e = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.reference.appendingPathComponent(explanation))) as? [String: Any])
        let input = (e["input"] as! [[Double]]).flatMap { $0.map(Float.init) }
        let ig = e["ig"] as! [String: Any]
        let expected = (ig["attributions"] as! [[Double]]).flatMap { $0 }
        let target = ig["target"] as! Int
        #expect(ig["method"] as? String == "gausslegendre" && ig["steps"] as? Int == 50)
        let r = IntegratedGradients(model: file.model).attribute(input, target: target)
        let worst = zip(r.attributions, expected).map { abs($0 - $1) }.max()!
        let scale = expected.map(abs).max()!
        #expect(worst < 2e-6, "largest difference from Captum: \(worst) (largest attribution \(scale))")
        #expect(abs(r.delta - (ig["delta"] as! Double)) < 5e-6, "delta \(r.delta) vs Captum \(ig["delta"]!)")
    }

    @Test func gaussLegendreNodesMatchTheKnownValues() {
        // n = 3: nodes ±√(3/5), 0; weights 5/9, 8/9, 5/9.
        let (x, w) = GaussLegendre.nodes(3)
        #expect(abs(x[0] + (0.6).squareRoot()) < 1e-15 && abs(x[1]) < 1e-15 && abs(x[2] - (0.6).squareRoot()) < 1e-15)
        #expect(abs(w[0] - 5.0 / 9) < 1e-15 && abs(w[1] - 8.0 / 9) < 1e-15)
        for n in [1, 2, 7, 50, 200] {
            let (xs, ws) = GaussLegendre.nodes(n)
            #expect(abs(ws.reduce(0, +) - 2) < 1e-12)
            // Exact for polynomials of degree 2n − 1: ∫ x⁴ over [−1, 1] = 2/5 when n ≥ 3.
            if n >= 3 { #expect(abs(zip(xs, ws).reduce(0) { $0 + $1.1 * pow($1.0, 4) } - 0.4) < 1e-12) }
            #expect(xs == xs.sorted())
        }
    }

    @Test func riemannRulesAreCaptums() {
        let left = IntegrationRule.riemannLeft.points(4)
        #expect(left.alphas == [0, 0.25, 0.5, 0.75] && left.weights == [0.25, 0.25, 0.25, 0.25])
        let trap = IntegrationRule.riemannTrapezoid.points(2)
        #expect(trap.alphas == [0, 1] && trap.weights == [0.25, 0.25])   // Captum's own test expects these
        #expect(IntegrationRule.riemannMiddle.points(2).alphas == [0.25, 0.75])
        #expect(IntegrationRule.riemannRight.points(4).alphas == [0.25, 0.5, 0.75, 1])
    }
}

@Suite struct CompletenessTests {
    let shape = ModelShape(features: 5, embed: 6, hidden: 7, attention: 4, treatments: 3)

    func input(_ T: Int, seed: UInt64) -> [Float] {
        var rng = ModelRandom(seed: seed)
        return (0..<(T * shape.features)).map { _ in rng.uniform(-2, 2) }
    }

    @Test(arguments: IntegrationRule.allCases)
    func attributionsAddUpToTheChange(rule: IntegrationRule) {
        let model = GRUAttention(shape: shape, seed: 3)
        let ig = IntegratedGradients(model: model)
        let x = input(6, seed: 1)
        let r = ig.attribute(x, target: 1, rule: rule, steps: rule == .riemannTrapezoid ? 400 : 200)
        // Captum's trapezoid weights sum to (n−1)/n: its delta is about −change/n by design.
        let allowance = rule == .riemannTrapezoid ? abs(r.change) / 400 * 1.5 + 1e-4 : 1e-3 * abs(r.change) + 1e-6
        #expect(abs(r.delta) <= allowance, "\(rule.rawValue): delta \(r.delta), change \(r.change)")
    }

    @Test func autoStepsReachTheTolerance() {
        var model = GRUAttention(shape: shape, seed: 4)
        for i in model.parameters.indices { model.parameters[i] *= 6 }   // saturated, as a confident model
        let ig = IntegratedGradients(model: model)
        let x = input(8, seed: 2)
        let r = ig.attributeUntilComplete(x, target: 0, tolerance: 0.01)
        #expect(r.relativeDelta <= 0.01 || r.steps == 1600)
        #expect(r.steps >= 50)
    }

    @Test func aFeatureAtItsBaselineGetsNothing() {
        let model = GRUAttention(shape: shape, seed: 5)
        var x = input(4, seed: 3)
        for t in 0..<4 { x[t * shape.features + 2] = 0 }   // equal to the zero baseline everywhere
        let r = IntegratedGradients(model: model).attribute(x, target: 2)
        for t in 0..<4 { #expect(r.attributions[t * shape.features + 2] == 0) }
    }

    @Test func aCustomBaselineIsHonoured() {
        let model = GRUAttention(shape: shape, seed: 6)
        let x = input(3, seed: 4)
        let base = Array(x[0..<shape.features]) + Array(x[0..<shape.features]) + Array(x[0..<shape.features])
        let r = IntegratedGradients(model: model).attribute(x, target: 0, baseline: base, steps: 100)
        for f in 0..<shape.features { #expect(r.attributions[f] == 0) }    // the first visit equals the baseline
        #expect(abs(r.delta) < 1e-3 * max(abs(r.change), 1e-6) + 1e-6)
    }
}

/// A model linear in its input, output k = W_k · x + b_k, whose gradient at every point is W_k:
/// integrated gradients must give exactly (x − baseline) · W_k (times the rule's weight sum).
/// The gradient is formed point by point, as any model's would be.
struct LinearScores: PathDifferentiable {
    let featuresPerVisit: Int
    let outputs: Int
    let w: [[Float]]
    let b: [Float]

    func pathGradients(from: [Float], to: [Float], alphas: [Float], weights: [Float], target: Int) -> PathGradients {
        var values: [Float] = []
        var gradient = [Float](repeating: 0, count: from.count)
        for (a, weight) in zip(alphas, weights) {
            let point = zip(from, to).map { $0 + a * ($1 - $0) }
            for k in 0..<outputs { values.append(zip(w[k], point).reduce(b[k]) { $0 + $1.0 * $1.1 }) }
            for i in gradient.indices { gradient[i] += weight * w[target][i] }
        }
        return PathGradients(probabilities: values, weightedGradient: gradient)
    }
}

@Suite struct LinearModelTests {
    @Test(arguments: IntegrationRule.allCases)
    func integratedGradientsOfALinearModelAreInputTimesWeight(rule: IntegrationRule) {
        var rng = ModelRandom(seed: 21)
        let F = 4, T = 3, K = 2
        let model = LinearScores(featuresPerVisit: F, outputs: K, w: (0..<K).map { _ in (0..<(T * F)).map { _ in rng.uniform(-1, 1) } },
                                 b: [0.3, -0.2])
        let x = (0..<(T * F)).map { _ in rng.uniform(-2, 2) }, base = (0..<(T * F)).map { _ in rng.uniform(-1, 1) }
        let steps = 50
        let r = IntegratedGradients(model: model).attribute(x, target: 1, baseline: base, rule: rule, steps: steps)
        // Captum's trapezoid weights sum to (n − 1)/n; the other rules' to 1.
        let total = rule.points(steps).weights.reduce(0, +)
        #expect(abs(total - (rule == .riemannTrapezoid ? Double(steps - 1) / Double(steps) : 1)) < 1e-12)
        for i in x.indices {
            let exact = Double(x[i] - base[i]) * Double(model.w[1][i]) * total
            #expect(abs(r.attributions[i] - exact) <= 1e-6 * max(abs(exact), 1e-3), "\(rule.rawValue) [\(i)]: \(r.attributions[i]) vs \(exact)")
        }
        let change = zip(model.w[1], zip(x, base)).reduce(0.0) { $0 + Double($1.0) * Double($1.1.0 - $1.1.1) }
        #expect(abs(r.change - change) < 1e-5)
        if rule != .riemannTrapezoid { #expect(abs(r.delta) < 1e-5, "\(rule.rawValue): delta \(r.delta)") }
    }
}

/// Completeness of the shipped model's explanations on demo-cohort patients.
@Suite struct ShippedModelCompletenessTests {
    @Test func withinOnePercentOnCohortPatients() throws {
        let file = try ModelFile.load(path: TestSupport.knowledgeDirectory.appendingPathComponent("models/default.safetensors").path)
        let extractor = FeatureExtractor(pack: TestSupport.pack)
        let generator = CohortGenerator()
        let ig = IntegratedGradients(model: file.model)
        var worst = 0.0
        for i in 0..<12 {
            let rows = Array(extractor.matrix(for: generator.patient(i).record).rows.suffix(40))
            let x = file.model.standardize(rows)
            let p = file.model.forward(SequenceBatch(sequences: [x], features: file.model.shape.features)).probabilities(0)
            let r = ig.attributeUntilComplete(x, target: Metrics.argmax(p), tolerance: 0.01)
            if abs(r.change) > 1e-4 {
                #expect(r.relativeDelta <= 0.01, "demo patient \(i + 1): delta \(r.delta) of change \(r.change) after \(r.steps) steps")
                worst = max(worst, r.relativeDelta)
            }
        }
        #expect(worst <= 0.01)
    }
}
