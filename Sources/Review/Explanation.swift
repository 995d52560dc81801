import Explanations
import Foundation
import Patients
import TreatmentModel

/// Integrated gradients of one option's probability for an analysed patient, with the totals and
/// the strongest cells that `explain` and the case report show. One computation for both, so
/// the page and the terminal never disagree.
public struct Explanation: Sendable {
    public enum Baseline: String, Sendable, CaseIterable {
        /// All zeros in the standardized input: the population mean, an average patient.
        case zeros
        /// The patient's own first visit repeated.
        case firstVisit = "first-visit"
    }

    /// One feature at one visit.
    public struct Cell: Sendable {
        /// Position in the model's input: visit `t` (0-based among the visits the model saw), feature `f`.
        public var t: Int, f: Int
        public var attribution: Double
    }

    public let target: Int
    public let baseline: Baseline
    public let result: IntegratedGradients<TreatmentNetwork>.Result
    /// Visits the model saw × features, visit-major.
    public let visits: Int, features: Int

    /// Explains `target` (default: the model's top choice) with `steps` points of `rule`, or,
    /// with `steps` nil, with as many as it takes to bring the delta within 1 % of the change.
    public init(_ a: PatientAnalysis, target: Int? = nil, rule: IntegrationRule = .gaussLegendre, steps: Int? = 50, baseline: Baseline = .zeros) {
        let F = a.model.file.model.shape.features, T = a.raw.count
        let target = target ?? a.top
        let base: [Float]? = baseline == .firstVisit ? (0..<T).flatMap { _ in Array(a.input[0..<F]) } : nil
        let ig = IntegratedGradients(model: a.model.file.model)
        result = steps.map { ig.attribute(a.input, target: target, baseline: base, rule: rule, steps: $0) }
            ?? ig.attributeUntilComplete(a.input, target: target, baseline: base, rule: rule)
        self.target = target
        self.baseline = baseline
        visits = T
        features = F
    }

    public var attributions: [Double] { result.attributions }
    public func attribution(t: Int, f: Int) -> Double { result.attributions[t * features + f] }
    /// Each feature's attribution summed over the visits.
    public var byFeature: [Double] {
        var s = [Double](repeating: 0, count: features)
        for c in result.attributions.indices { s[c % features] += result.attributions[c] }
        return s
    }
    /// Each visit's attribution summed over the features.
    public var byVisit: [Double] { (0..<visits).map { t in result.attributions[(t * features)..<(t * features + features)].reduce(0, +) } }
    /// The `n` cells of largest magnitude, strongest first.
    public func strongest(_ n: Int) -> [Cell] {
        result.attributions.indices.sorted { abs(result.attributions[$0]) > abs(result.attributions[$1]) }.prefix(n)
            .map { Cell(t: $0 / features, f: $0 % features, attribution: result.attributions[$0]) }
    }
    /// The sum of the attributions (completeness: it should equal the change in probability).
    public var total: Double { result.attributions.reduce(0, +) }
}
