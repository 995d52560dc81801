import Foundation

/// Metrics of the decision a recommender would make, scored by the simulator's utilities, and
/// of calibration where the choice is hard.
extension Metrics {
    /// Utility charged for following a top choice the guidelines contraindicate, beyond its
    /// simulated utility: the simulator's harm for starting an SGLT2 inhibitor below eGFR 20
    /// (docs/cohort.md). The simulated utility already holds the harms the simulator models;
    /// the charge makes a contraindicated choice cost something even where the simulator gives
    /// it none (a rule the simulator does not model, an unmeasured fact), because a clinician
    /// following the recommendation would have to override a safety rule to act on it.
    public static let contraindicationPenalty = 1.0

    /// Regret of each case: the best option's utility minus the utility of the chosen option,
    /// plus `contraindicationPenalty` when the guidelines contraindicate the chosen option.
    public static func regrets(_ predicted: [Int], utilities: [[Double]], contraindicated: [[Bool]]? = nil) -> [Double] {
        predicted.indices.map { i in
            let u = utilities[i], k = predicted[i]
            let penalty = (contraindicated?[i][k] ?? false) ? contraindicationPenalty : 0
            return (u.max() ?? 0) - u[k] + penalty
        }
    }

    /// Mean of `values` at `indices`.
    public static func mean(_ values: [Double], at indices: [Int]) -> Double {
        indices.isEmpty ? 0 : indices.reduce(0) { $0 + values[$1] } / Double(indices.count)
    }

    /// The cases whose top probability is below `threshold`: the non-trivial ones.
    public static func uncertain(_ probabilities: [[Float]], below threshold: Float = 0.9) -> [Int] {
        probabilities.indices.filter { probabilities[$0].max() ?? 0 < threshold }
    }

    /// Class-wise calibration error of class `k`: over equal-width bins of its probability, the
    /// case-weighted mean |observed frequency of k − mean probability of k|.
    public static func classCalibrationError(_ probabilities: [[Float]], _ labels: [Int], class k: Int, bins: Int = 15) -> Double {
        guard !labels.isEmpty else { return 0 }
        var conf = [Double](repeating: 0, count: bins), hit = [Double](repeating: 0, count: bins), n = [Double](repeating: 0, count: bins)
        for (p, y) in zip(probabilities, labels) {
            let c = Double(p[k]), b = min(Int(c * Double(bins)), bins - 1)
            conf[b] += c; hit[b] += y == k ? 1 : 0; n[b] += 1
        }
        return (0..<bins).reduce(0) { $0 + abs(hit[$1] - conf[$1]) } / Double(labels.count)
    }
}

/// Paired bootstrap: the same resampled cases for both sides of a difference.
public enum PairedBootstrap {
    /// `statistic(indices)` on the whole set and its percentile interval over `resamples`
    /// resamples of the `count` cases with replacement (a fixed seed: the same data give the same interval).
    public static func interval(count: Int, resamples: Int = 1000, seed: UInt64 = 11, _ statistic: ([Int]) -> Double) -> Estimate {
        let point = statistic(Array(0..<count))
        guard count > 0, resamples > 0 else { return Estimate(value: point, low: point, high: point) }
        var rng = ModelRandom(seed: seed)
        var samples: [Double] = []
        samples.reserveCapacity(resamples)
        for _ in 0..<resamples {
            samples.append(statistic((0..<count).map { _ in Int(rng.next() % UInt64(count)) }))
        }
        samples.sort()
        return Estimate(value: point, low: samples[Int(0.025 * Double(resamples - 1))], high: samples[Int((0.975 * Double(resamples - 1)).rounded(.up))])
    }
}
