import Foundation
import Testing
@testable import TreatmentModel

/// Regret, class-wise and non-trivial calibration, the paired bootstrap, the deletion test, the
/// history aggregates and the XGBoost baseline, each against a case worked out by hand.
@Suite struct DecisionMetricsTests {
    @Test func regretIsTheUtilityLostPlusThePenaltyForAContraindicatedChoice() {
        let u: [[Double]] = [[1, 0.5, 0], [0.2, 0.4, 0.1], [0.3, -0.2, 0.3]]
        let flags: [[Bool]] = [[false, true, false], [false, false, false], [false, false, true]]
        // Case 1 takes option 1: 1 − 0.5, contraindicated: + 1. Case 2 takes the best: 0.
        // Case 3 takes option 2, tied best but contraindicated: 0 + 1.
        #expect(Metrics.regrets([1, 1, 2], utilities: u, contraindicated: flags) == [0.5 + Metrics.contraindicationPenalty, 0, Metrics.contraindicationPenalty])
        #expect(Metrics.regrets([0, 2, 1], utilities: u) == [0, 0.4 - 0.1, 0.3 + 0.2])
        #expect(abs(Metrics.mean([1.5, 0, 1], at: [0, 0, 1]) - 1.0) < 1e-12)
    }

    @Test func classWiseCalibrationError() {
        let p: [[Float]] = [[0.8, 0.2], [0.6, 0.4], [0.3, 0.7]]
        let y = [0, 1, 1]
        // Class 0: each case in its own bin: |1 − 0.8| + |0 − 0.6| + |0 − 0.3|, over 3 cases.
        #expect(abs(Metrics.classCalibrationError(p, y, class: 0) - 1.1 / 3) < 1e-6)
        // Class 1: 0.2 → |0 − 0.2|, 0.4 → |1 − 0.4|, 0.7 → |1 − 0.7|.
        #expect(abs(Metrics.classCalibrationError(p, y, class: 1) - 1.1 / 3) < 1e-6)
        // With two bins, 0.6 and 0.8 share the upper one: |1 − 1.4| + |0 − 0.3|.
        #expect(abs(Metrics.classCalibrationError(p, y, class: 0, bins: 2) - 0.7 / 3) < 1e-6)
        #expect(Metrics.uncertain([[0.95, 0.05], [0.89, 0.11], [0.5, 0.5]]) == [1, 2])
    }

    @Test func evaluationScoresRegretAndCalibrationOfTheHardCases() {
        let p: [[Float]] = [[0.95, 0.05], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]]
        let y = [0, 1, 1, 0]
        let u: [[Double]] = [[1, 0], [0, 0.5], [0.2, 0.4], [0.9, 0.1]]
        let e = Evaluation.score(name: "x", probabilities: p, labels: y, treatments: ["a", "b"], utilities: u,
                                 contraindicated: [[false, false], [false, false], [false, true], [false, false]], resamples: 100)
        // Choices 0, 0, 1, 1: regrets 0, 0.5, 0 + 1 (contraindicated), 0.8.
        #expect(abs(e.scores.regret!.value - (0 + 0.5 + 1 + 0.8) / 4) < 1e-12)
        #expect(e.scores.regret!.low <= e.scores.regret!.value && e.scores.regret!.value <= e.scores.regret!.high)
        #expect(e.contraindicatedTopShare == 0.25 && e.uncertainShare == 0.75)
        // The three cases with top < 0.9: confidences 0.6 (wrong), 0.7 (right), 0.8 (wrong), each in its own bin.
        #expect(abs(e.scores.expectedCalibrationErrorUncertain!.value - (0.6 + 0.3 + 0.8) / 3) < 1e-6)
        #expect(Evaluation.score(name: "x", probabilities: p, labels: y, treatments: ["a", "b"], resamples: 10).scores.regret == nil)
    }

    @Test func pairedBootstrapOfADifference() {
        let a: [Double] = [1, 2, 3, 4, 5], b = a.map { $0 - 0.5 }
        // Every resample has the same difference: the interval is the point.
        let d = PairedBootstrap.interval(count: 5, resamples: 200) { Metrics.mean(a, at: $0) - Metrics.mean(b, at: $0) }
        #expect(abs(d.value - 0.5) < 1e-12 && abs(d.low - 0.5) < 1e-12 && abs(d.high - 0.5) < 1e-12)
        // Unpaired noise widens it; the point is the full-sample statistic and the same seed repeats.
        let c: [Double] = [3, 1, 4, 1, 5]
        let e = PairedBootstrap.interval(count: 5, resamples: 500) { Metrics.mean(c, at: $0) }
        #expect(abs(e.value - 2.8) < 1e-12 && e.low < e.value && e.high > e.value && e.low >= 1 && e.high <= 5)
        #expect(PairedBootstrap.interval(count: 5, resamples: 500) { Metrics.mean(c, at: $0) } == e)
    }

    /// A model that reads only the last visit's first value and attends only to the last visit.
    static let lastVisitModel: DeletionTest.Predictor = { rows in
        let a = rows.last![0]
        var w = [Float](repeating: 0, count: rows.count)
        w[rows.count - 1] = 1
        return ([a, 1 - a], w)
    }

    @Test func deletionTestAgainstAModelOfTheLastVisit() {
        let seqs: [[[Float]]] = [[[0.9], [0.5], [0.1]], [[0.2], [0.6], [0.3], [0.7]], [[0.4]]]
        let r = DeletionTest.run(sequences: seqs, ks: [1, 3], randomDraws: 4, resamples: 100, predictor: Self.lastVisitModel)
        // The one-visit sequence is left out; the others attend to their last visit.
        #expect(r.sequences == 2 && r.peakOnLastVisit.value == 1 && r.meanWeightOnLastVisit.value == 1)
        // k = 1: removing the last visit moves a from 0.1 to 0.5 (TV 0.4) and from 0.7 to 0.3 (TV 0.4).
        let k1 = r.results[0]
        #expect(k1.k == 1 && k1.sequences == 2 && abs(k1.topAttention.value - 0.4) < 1e-6)
        // A random visit is the last one in some draws only: never more than the top-attention change.
        #expect(k1.random.value <= 0.4 + 1e-6 && abs(k1.difference.value - (k1.topAttention.value - k1.random.value)) < 1e-9)
        // k = 3: only the four-visit sequence has more than 3 visits; removing the top 3 leaves visit 1 (0.2): TV 0.5.
        let k3 = r.results[1]
        #expect(k3.sequences == 1 && abs(k3.topAttention.value - 0.5) < 1e-6)
        #expect(DeletionTest.top(2, of: [0.1, 0.5, 0.2, 0.5]) == [3, 1])
        #expect(abs(DeletionTest.totalVariation([0.2, 0.3, 0.5], [0.5, 0.3, 0.2]) - 0.3) < 1e-7)
    }

    @Test func historyAggregatesByHand() {
        let agg = HistoryAggregates(features: ["hba1c", "hba1c_missing", "on_metformin"], measured: ["hba1c"], medications: ["on_metformin"])
        #expect(agg.names == ["last.hba1c", "last.hba1c_missing", "last.on_metformin", "hba1c.mean", "hba1c.min", "hba1c.max", "hba1c.first",
                              "hba1c.change", "hba1c.coverage", "on_metformin.ever", "on_metformin.stopped", "on_metformin.visits"])
        let row = agg.row([[8, 0, 0], [.nan, 1, 1], [7, 0, 1], [7.5, 0, 0]])
        #expect(row == [7.5, 0, 0, 7.5, 7, 8, 8, -0.5, 0.75, 1, 1, 2])
        let unknown = agg.row([[.nan, 1, 0]])
        #expect(unknown[3].isNaN && unknown[8] == 0 && Array(unknown[9...]) == [0, 0, 0])
    }

    @Test func gradientBoostedTreesLearnASeparableRule() throws {
        // Three classes by HbA1c band; metformin history decides within the top band.
        func example(_ i: Int) -> Dataset.Example {
            let x = Float(6 + (i % 30) / 5), met: Float = i % 2 == 0 ? 1 : 0
            let label = x < 7 ? 0 : (x < 9 ? 1 : (met == 1 ? 2 : 1))
            return Dataset.Example(patientID: "p\(i)", rows: [[x, 0, met], [x + 0.1, 0, met]], label: label)
        }
        let features = ["hba1c", "hba1c_missing", "on_metformin"]
        let train = Dataset(examples: (0..<600).map(example), features: features, treatments: ["a", "b", "c"])
        let validation = Dataset(examples: (600..<720).map(example), features: features, treatments: ["a", "b", "c"])
        var settings = GradientBoostedTrees.Settings()
        settings.depths = [2, 3]; settings.maxRounds = 60; settings.threads = 1
        let trees = try GradientBoostedTrees(train: train, validation: validation,
                                             aggregates: HistoryAggregates(features: features, measured: ["hba1c"], medications: ["on_metformin"]), settings: settings)
        #expect(trees.fit.rounds >= 1 && trees.fit.rounds <= 60 && [2, 3].contains(trees.fit.depth) && trees.fit.tried.count == 2)
        let p = trees.probabilities(batch: validation.examples)
        #expect(Metrics.accuracy(p.map(Metrics.argmax), validation.labels) == 1)
        for q in p { #expect(abs(q.reduce(0, +) - 1) < 1e-4) }
        #expect(trees.probabilities(validation.examples[3]) == p[3])
        #expect(trees.name.contains("XGBoost"))
    }

    @Test func aModelOfFewerFeaturesReadsItsOwnColumns() throws {
        let wide = Dataset(examples: [Dataset.Example(patientID: "p", rows: [[1, 2, 3], [4, 5, 6]], label: 0)], features: ["a", "b", "c"], treatments: ["x"])
        #expect(Dataset.columnIndices(of: ["c", "a"], in: wide.features) == [2, 0])
        #expect(Dataset.columnIndices(of: ["a", "z"], in: wide.features) == nil)
        let narrow = try wide.projected(onto: ["c", "a"])
        #expect(narrow.features == ["c", "a"] && narrow.examples[0].rows == [[3, 1], [6, 4]])
        #expect(throws: (any Error).self) { try wide.projected(onto: ["z"]) }
    }
}
