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
        /// ECE on the cases whose top probability is below 0.9 (the non-trivial ones).
        public var expectedCalibrationErrorUncertain: Estimate?
        /// Mean simulated utility lost by following the top choice instead of the best option
        /// (`Metrics.regrets`; a contraindicated top choice also costs `Metrics.contraindicationPenalty`).
        public var regret: Estimate?
    }
    public struct ClassScores: Sendable, Codable {
        public var treatment: String
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int
        /// Class-wise calibration error, on all cases and on the non-trivial ones.
        public var calibrationError: Double?
        public var calibrationErrorUncertain: Double?
    }
    public var name: String
    public var cases: Int
    public var scores: Scores
    public var perClass: [ClassScores]
    /// `[true][predicted]`.
    public var confusion: [[Int]]
    /// Share of cases whose top probability is below 0.9.
    public var uncertainShare: Double?
    /// Share of cases whose top choice the guidelines contraindicate.
    public var contraindicatedTopShare: Double?

    /// Scores `probabilities` against `labels`, with percentile intervals from `resamples`
    /// bootstrap resamples of the cases (a fixed seed: the same data give the same intervals).
    ///
    /// With `utilities` (each case's simulated utility of every option) it also scores regret,
    /// charging `contraindicated` top choices (each case's guideline contraindications) as
    /// `Metrics.regrets` documents.
    public static func score(name: String, probabilities: [[Float]], labels: [Int], treatments: [String],
                             utilities: [[Double]]? = nil, contraindicated: [[Bool]]? = nil,
                             resamples: Int = 1000, seed: UInt64 = 7) -> Evaluation {
        let K = treatments.count
        let predicted = probabilities.map(Metrics.argmax)
        let regrets = utilities.map { Metrics.regrets(predicted, utilities: $0, contraindicated: contraindicated) }
        let uncertain = probabilities.map { ($0.max() ?? 0) < 0.9 }
        func all(_ idx: [Int]) -> [Double] {
            let p = idx.map { probabilities[$0] }, y = idx.map { labels[$0] }
            let pred = idx.map { predicted[$0] }
            let hard = idx.filter { uncertain[$0] }
            return [Metrics.accuracy(pred, y), Metrics.macroPrecision(pred, y, K: K), Metrics.macroRecall(pred, y, K: K),
                    Metrics.macroF1(pred, y, K: K), Metrics.macroAUC(p, y, K: K), Metrics.topK(p, y, k: 2),
                    Metrics.expectedCalibrationError(p, y), Metrics.brier(p, y),
                    Metrics.expectedCalibrationError(hard.map { probabilities[$0] }, hard.map { labels[$0] }),
                    regrets.map { Metrics.mean($0, at: idx) } ?? 0]
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
        let pc = Metrics.perClass(predicted, labels, K: K)
        let hard = labels.indices.filter { uncertain[$0] }
        let (hp, hy) = (hard.map { probabilities[$0] }, hard.map { labels[$0] })
        return Evaluation(name: name, cases: labels.count,
                          scores: Scores(accuracy: est(0), macroPrecision: est(1), macroRecall: est(2), macroF1: est(3), macroAUC: est(4),
                                         top2Accuracy: est(5), expectedCalibrationError: est(6), brier: est(7),
                                         expectedCalibrationErrorUncertain: est(8), regret: utilities == nil ? nil : est(9)),
                          perClass: treatments.indices.map { k in
                              ClassScores(treatment: treatments[k], precision: pc[k].precision, recall: pc[k].recall, f1: pc[k].f1, support: pc[k].support,
                                          calibrationError: Metrics.classCalibrationError(probabilities, labels, class: k),
                                          calibrationErrorUncertain: Metrics.classCalibrationError(hp, hy, class: k))
                          },
                          confusion: Metrics.confusion(predicted, labels, K: K),
                          uncertainShare: labels.isEmpty ? 0 : Double(hard.count) / Double(labels.count),
                          contraindicatedTopShare: contraindicated.map { c in labels.isEmpty ? 0 : Double(predicted.indices.filter { c[$0][predicted[$0]] }.count) / Double(labels.count) })
    }
}
