import Foundation
import Store

/// A recorded decision as learning sees it: the context the model saw, the action the clinician
/// took (the chosen treatment), the reward of that action, and what was shown.
///
/// The decision record's `reward` judges the *recommendation*. Learning needs the reward of the
/// *chosen* treatment, the action whose propensity the behaviour policy estimates. The mapping
/// (documented in `Knowledge/override-reasons.yaml` and `docs/learning.md`):
/// - accepted: the chosen (= recommended) treatment earns the decision's reward (+1);
/// - overridden for a reason about the medicine (a reason whose reward is negative): the
///   clinician judged the chosen treatment better for this patient: +1;
/// - overridden for the patient's circumstances (preference, cost: reward 0): 0, neither for
///   nor against the chosen treatment on clinical grounds.
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
        reward = Self.reward(d)
        shown = d.probabilities
        contraindicated = Set(treatments.indices.filter { d.guidelineStatuses[treatments[$0]] == "contraindicated" })
    }

    /// The reward of the chosen treatment (see the type's documentation).
    public static func reward(_ d: DecisionRecord) -> Double {
        switch d.outcome {
        case .accepted: return d.reward
        case .overridden: return d.reward < 0 ? 1 : 0
        }
    }

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
