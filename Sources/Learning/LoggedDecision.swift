import Foundation
import Store

/// A recorded decision as learning sees it: the context the model saw, what it recommended and
/// what the clinician chose, and what was shown.
///
/// A decision yields up to two logged (action, reward, propensity) samples (docs/learning.md):
/// - the recommendation: action = the recommended treatment, reward = the decision's documented
///   reward (accept +1; override for a reason about the medicine −1; for the patient's
///   circumstances 0), propensity = the probability the model in use gave it (the
///   recommendation was that model's choice, so the model is its logging policy);
/// - the clinician's alternative, when they overrode for a reason about the medicine: action =
///   the chosen treatment, reward +1, propensity = the clinicians' *estimated* behaviour policy
///   (`BehaviourPolicy`), since the model's probability of what a clinician chose is not the
///   probability that the clinician chose it.
public struct LoggedDecision: Sendable {
    public var id: String
    public var patient: String
    public var clinician: String
    /// Standardized input, visit-major, `visits × features`.
    public var input: [Float]
    public var visits: Int
    public var features: Int
    public var chosen: Int
    public var recommended: Int
    /// The decision's documented reward (of the recommendation).
    public var reward: Double
    /// The model's distribution as shown when the decision was made.
    public var shown: [Float]
    /// Treatments a guideline marked contraindicated for this patient at the time.
    public var contraindicated: Set<Int>

    public init?(_ d: DecisionRecord, treatments: [String]) {
        guard d.treatments == treatments, let c = treatments.firstIndex(of: d.chosen), let r = treatments.firstIndex(of: d.recommended),
              d.input.values.count == d.input.visits * d.input.features, d.input.visits > 0 else { return nil }
        id = d.id; patient = d.patient; clinician = d.clinician
        input = d.input.values; visits = d.input.visits; features = d.input.features
        chosen = c; recommended = r
        reward = d.reward
        shown = d.probabilities
        contraindicated = Set(treatments.indices.filter { d.guidelineStatuses[treatments[$0]] == "contraindicated" })
    }

    /// Whether the clinician chose another treatment for a reason about the medicine.
    public var clinicalOverride: Bool { chosen != recommended && reward < 0 }

    /// The last visit's standardized features.
    public var lastVisit: [Float] { Array(input[((visits - 1) * features)..<(visits * features)]) }
}

/// Splits decisions by patient, deterministically: a patient's decisions are all learned from
/// or all held out.
public enum DecisionSplit {
    public static func isHeldOut(patient: String, fraction: Double, seed: UInt64) -> Bool {
        // FNV-1a over the id, mixed with the seed: stable across runs and platforms.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for b in patient.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h ^= h >> 33; h = h &* 0xff51_afd7_ed55_8ccd; h ^= h >> 33
        return Double(h % 1_000_000) / 1_000_000 < fraction
    }

    public static func split(_ ds: [LoggedDecision], heldOut fraction: Double = 0.3, seed: UInt64 = 7) -> (learn: [LoggedDecision], heldOut: [LoggedDecision]) {
        var learn: [LoggedDecision] = [], held: [LoggedDecision] = []
        for d in ds { if isHeldOut(patient: d.patient, fraction: fraction, seed: seed) { held.append(d) } else { learn.append(d) } }
        return (learn, held)
    }
}

/// One logged sample: an action with its observed reward and the propensity of its logging policy.
public struct LoggedAction: Sendable {
    public enum Kind: String, Sendable, Codable { case recommendation, alternative }
    /// Index into the decisions it came from.
    public var decision: Int
    public var action: Int
    public var reward: Double
    public var propensity: Double
    public var kind: Kind

    /// The samples of `decisions` (see `LoggedDecision`), with the clinicians' estimated policy.
    public static func samples(_ decisions: [LoggedDecision], behaviour: BehaviourPolicy) -> [LoggedAction] {
        var out: [LoggedAction] = []
        for (i, d) in decisions.enumerated() {
            out.append(LoggedAction(decision: i, action: d.recommended, reward: d.reward, propensity: max(Double(d.shown[d.recommended]), 1e-6), kind: .recommendation))
            if d.clinicalOverride {
                out.append(LoggedAction(decision: i, action: d.chosen, reward: 1, propensity: behaviour.probabilities(d)[d.chosen], kind: .alternative))
            }
        }
        return out
    }
}
