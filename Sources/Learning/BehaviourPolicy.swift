import Foundation
import TreatmentModel

/// The clinicians' behaviour policy π_b(a | x), estimated from the logged decisions, since the
/// model's probability of the chosen treatment is not the probability that a clinician chose it.
///
/// The propensity model (documented in docs/learning.md): a multinomial logistic regression
/// (L2 1e-2) of the chosen treatment on the context a clinician had in front of them, the last
/// visit's standardized features and the model's displayed distribution; then softened, as the
/// AI Clinician softened its clinicians' policy: π_b = (1 − ε) p̂ + ε / K with ε = 0.05, so no
/// treatment has zero propensity and no importance weight is infinite. These propensities are
/// estimated, not known; every report says so.
public struct BehaviourPolicy: Sendable {
    public static let softening = 0.05
    let regression: LogisticRegression
    let K: Int

    public init(decisions: [LoggedDecision], treatments: [String]) {
        K = treatments.count
        let examples = decisions.map { Dataset.Example(patientID: $0.patient, rows: [Self.context($0)], label: $0.chosen) }
        let F = examples.first?.rows[0].count ?? 0
        regression = LogisticRegression(train: Dataset(examples: examples, features: (0..<F).map { "c\($0)" }, treatments: treatments), l2: 1e-2, epochs: 300)
    }

    static func context(_ d: LoggedDecision) -> [Float] { d.lastVisit + d.shown }

    /// π_b(· | x) for a decision's context, softened.
    public func probabilities(_ d: LoggedDecision) -> [Double] {
        let p = regression.probabilities(Dataset.Example(patientID: d.patient, rows: [Self.context(d)], label: 0))
        return p.map { (1 - Self.softening) * Double($0) + Self.softening / Double(K) }
    }
}
