import Foundation

/// A metric with its 95 % bootstrap interval.
public struct Estimate: Sendable, Codable, Equatable {
    public var value: Double
    public var low: Double
    public var high: Double
}

/// One recommender's scores on a test set.
public struct Evaluation: Sendable, Codable {
    public struct Scores: Sendable, Codable {
        public var accuracy: Estimate
        public var macroPrecision: Estimate
        public var macroRecall: Estimate
        public var macroF1: Estimate
        public var macroAUC: Estimate
        public var top2Accuracy: Estimate
        public var expectedCalibrationError: Estimate
        public var brier: Estimate
    }
    public struct ClassScores: Sendable, Codable {
        public var treatment: String
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int
    }
    public var name: String
    public var cases: Int
    public var scores: Scores
    public var perClass: [ClassScores]
    /// `[true][predicted]`.
    public var confusion: [[Int]]

    /// Scores `probabilities` against `labels`, with percentile intervals from `resamples`
    /// bootstrap resamples of the cases (a fixed seed: the same data give the same intervals).
    public static func score(name: String, probabilities: [[Float]], labels: [Int], treatments: [String],
                             resamples: Int = 1000, seed: UInt64 = 7) -> Evaluation {
        let K = treatments.count
        func all(_ idx: [Int]) -> [Double] {
            let p = idx.map { probabilities[$0] }, y = idx.map { labels[$0] }
            let pred = p.map(Metrics.argmax)
            return [Metrics.accuracy(pred, y), Metrics.macroPrecision(pred, y, K: K), Metrics.macroRecall(pred, y, K: K),
                    Metrics.macroF1(pred, y, K: K), Metrics.macroAUC(p, y, K: K), Metrics.topK(p, y, k: 2),
                    Metrics.expectedCalibrationError(p, y), Metrics.brier(p, y)]
        }
        let point = all(Array(labels.indices))
        var rng = ModelRandom(seed: seed)
        var samples = [[Double]](repeating: [], count: point.count)
        for _ in 0..<resamples {
            let idx = labels.indices.map { _ in Int(rng.next() % UInt64(labels.count)) }
            for (i, v) in all(idx).enumerated() { samples[i].append(v) }
        }
        func est(_ i: Int) -> Estimate {
            let s = samples[i].sorted()
            guard !s.isEmpty else { return Estimate(value: point[i], low: point[i], high: point[i]) }
            return Estimate(value: point[i], low: s[Int(0.025 * Double(s.count - 1))], high: s[Int((0.975 * Double(s.count - 1)).rounded(.up))])
        }
        let pred = probabilities.map(Metrics.argmax)
        let pc = Metrics.perClass(pred, labels, K: K)
        return Evaluation(name: name, cases: labels.count,
                          scores: Scores(accuracy: est(0), macroPrecision: est(1), macroRecall: est(2), macroF1: est(3), macroAUC: est(4),
                                         top2Accuracy: est(5), expectedCalibrationError: est(6), brier: est(7)),
                          perClass: treatments.indices.map { ClassScores(treatment: treatments[$0], precision: pc[$0].precision, recall: pc[$0].recall, f1: pc[$0].f1, support: pc[$0].support) },
                          confusion: Metrics.confusion(pred, labels, K: K))
    }
}
