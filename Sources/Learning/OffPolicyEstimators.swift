import Foundation
import Patients

/// One logged decision for off-policy evaluation: the action taken, its reward, the behaviour
/// policy's propensity of it, the evaluated policy's distribution, and a reward model's
/// prediction for every action.
public struct OffPolicySample: Sendable {
    public var action: Int
    public var reward: Double
    /// π_b(action | x).
    public var propensity: Double
    /// π_e(· | x).
    public var target: [Double]
    /// q̂(x, ·).
    public var predicted: [Double]
    public init(action: Int, reward: Double, propensity: Double, target: [Double], predicted: [Double]) {
        self.action = action; self.reward = reward; self.propensity = propensity; self.target = target; self.predicted = predicted
    }
}

/// The standard off-policy estimators of a policy's value from logged decisions (Dudík,
/// Langford & Li 2011; Swaminathan & Joachims 2015), with weights clipped at `clip`.
public enum OffPolicy {
    public static func weights(_ s: [OffPolicySample], clip: Double) -> [Double] {
        s.map { min(clip, $0.target[$0.action] / $0.propensity) }
    }

    /// Inverse propensity scoring: (1/n) Σ w r.
    public static func ips(_ s: [OffPolicySample], clip: Double) -> Double {
        guard !s.isEmpty else { return .nan }
        return zip(weights(s, clip: clip), s).map { $0 * $1.reward }.reduce(0, +) / Double(s.count)
    }

    /// Self-normalised IPS: Σ w r / Σ w.
    public static func snips(_ s: [OffPolicySample], clip: Double) -> Double {
        let w = weights(s, clip: clip)
        let total = w.reduce(0, +)
        guard total > 0 else { return .nan }
        return zip(w, s).map { $0 * $1.reward }.reduce(0, +) / total
    }

    /// Direct method: (1/n) Σ_i Σ_a π_e(a|x_i) q̂(x_i, a).
    public static func directMethod(_ s: [OffPolicySample]) -> Double {
        guard !s.isEmpty else { return .nan }
        return s.map { x in zip(x.target, x.predicted).map { $0 * $1 }.reduce(0, +) }.reduce(0, +) / Double(s.count)
    }

    /// Doubly robust: DM + (1/n) Σ w (r − q̂(x, a)); unbiased if either π_b or q̂ is right.
    public static func doublyRobust(_ s: [OffPolicySample], clip: Double) -> Double {
        guard !s.isEmpty else { return .nan }
        let correction = zip(weights(s, clip: clip), s).map { $0 * ($1.reward - $1.predicted[$1.action]) }.reduce(0, +) / Double(s.count)
        return directMethod(s) + correction
    }

    /// Effective sample size (Σw)² / Σw².
    public static func effectiveSampleSize(_ w: [Double]) -> Double {
        let s = w.reduce(0, +), s2 = w.map { $0 * $0 }.reduce(0, +)
        return s2 > 0 ? s * s / s2 : 0
    }

    public struct Interval: Sendable, Codable { public var value: Double; public var low: Double; public var high: Double }

    /// The estimate with a 95 % percentile bootstrap interval (resampling decisions).
    public static func bootstrap(_ s: [OffPolicySample], resamples: Int = 500, seed: UInt64 = 11, _ estimator: ([OffPolicySample]) -> Double) -> Interval {
        let value = estimator(s)
        guard s.count > 1 else { return Interval(value: value, low: value, high: value) }
        var rng = SplitMix(seed: seed)
        var stats: [Double] = []
        for _ in 0..<resamples {
            let draw = (0..<s.count).map { _ in s[Int(rng.next() % UInt64(s.count))] }
            let v = estimator(draw)
            if v.isFinite { stats.append(v) }
        }
        stats.sort()
        guard !stats.isEmpty else { return Interval(value: value, low: .nan, high: .nan) }
        return Interval(value: value, low: stats[Int(0.025 * Double(stats.count - 1))], high: stats[Int(0.975 * Double(stats.count - 1))])
    }
}

/// q̂(x, a): the mean reward of each action in the learning samples, shrunk toward the overall
/// mean by `strength` pseudo-samples. It ignores x; the doubly robust estimator stays unbiased
/// when the propensities are right even so, and the direct method is reported beside it.
public struct RewardModel: Sendable {
    public let perAction: [Double]
    public init(samples: [LoggedAction], treatments: Int, strength: Double = 5) {
        let overall = samples.isEmpty ? 0 : samples.map(\.reward).reduce(0, +) / Double(samples.count)
        perAction = (0..<treatments).map { a in
            let rs = samples.filter { $0.action == a }.map(\.reward)
            return (rs.reduce(0, +) + strength * overall) / (Double(rs.count) + strength)
        }
    }
}
