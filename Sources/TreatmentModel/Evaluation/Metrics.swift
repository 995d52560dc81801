import Foundation

/// Classification metrics of the paper's results table (accuracy, macro precision, recall, F1,
/// one-vs-rest AUC-ROC) and calibration (top-2 accuracy, expected calibration error, Brier).
/// Macro averages run over the classes present in the labels or the predictions, as
/// scikit-learn's do; a class never predicted has precision 0.
public enum Metrics {
    public static func argmax(_ p: [Float]) -> Int {
        var best = 0
        for i in p.indices where p[i] > p[best] { best = i }
        return best
    }

    public static func accuracy(_ predicted: [Int], _ labels: [Int]) -> Double {
        guard !labels.isEmpty else { return 0 }
        return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// `[true][predicted]` counts.
    public static func confusion(_ predicted: [Int], _ labels: [Int], K: Int) -> [[Int]] {
        var m = [[Int]](repeating: [Int](repeating: 0, count: K), count: K)
        for (p, y) in zip(predicted, labels) { m[y][p] += 1 }
        return m
    }

    /// Per-class precision, recall, F1 and support.
    public static func perClass(_ predicted: [Int], _ labels: [Int], K: Int) -> [(precision: Double, recall: Double, f1: Double, support: Int)] {
        let m = confusion(predicted, labels, K: K)
        return (0..<K).map { k in
            let tp = Double(m[k][k])
            let predictedK = Double((0..<K).reduce(0) { $0 + m[$1][k] })
            let actualK = Double(m[k].reduce(0, +))
            let p = predictedK > 0 ? tp / predictedK : 0
            let r = actualK > 0 ? tp / actualK : 0
            return (p, r, p + r > 0 ? 2 * p * r / (p + r) : 0, Int(actualK))
        }
    }

    static func present(_ predicted: [Int], _ labels: [Int]) -> [Int] { Array(Set(predicted).union(labels)).sorted() }

    public static func macroPrecision(_ predicted: [Int], _ labels: [Int], K: Int) -> Double {
        let pc = perClass(predicted, labels, K: K), ks = present(predicted, labels)
        return ks.isEmpty ? 0 : ks.reduce(0) { $0 + pc[$1].precision } / Double(ks.count)
    }

    public static func macroRecall(_ predicted: [Int], _ labels: [Int], K: Int) -> Double {
        let pc = perClass(predicted, labels, K: K), ks = present(predicted, labels)
        return ks.isEmpty ? 0 : ks.reduce(0) { $0 + pc[$1].recall } / Double(ks.count)
    }

    public static func macroF1(_ predicted: [Int], _ labels: [Int], K: Int) -> Double {
        let pc = perClass(predicted, labels, K: K), ks = present(predicted, labels)
        return ks.isEmpty ? 0 : ks.reduce(0) { $0 + pc[$1].f1 } / Double(ks.count)
    }

    /// Area under the ROC curve of scores for positives against negatives (Mann–Whitney, ties
    /// counted half). Nil when either side is empty.
    public static func auc(scores: [Double], positive: [Bool]) -> Double? {
        let nPos = positive.filter { $0 }.count, nNeg = positive.count - nPos
        guard nPos > 0, nNeg > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where positive[order[k]] { rankSum += rank }
            i = j + 1
        }
        return (rankSum - Double(nPos * (nPos + 1)) / 2) / Double(nPos * nNeg)
    }

    /// Macro one-vs-rest AUC over the classes that have both positives and negatives.
    public static func macroAUC(_ probabilities: [[Float]], _ labels: [Int], K: Int) -> Double {
        let aucs = (0..<K).compactMap { k in auc(scores: probabilities.map { Double($0[k]) }, positive: labels.map { $0 == k }) }
        return aucs.isEmpty ? 0 : aucs.reduce(0, +) / Double(aucs.count)
    }

    public static func topK(_ probabilities: [[Float]], _ labels: [Int], k: Int) -> Double {
        guard !labels.isEmpty else { return 0 }
        let hits = zip(probabilities, labels).filter { p, y in
            p.indices.sorted { (p[$0], -$0) > (p[$1], -$1) }.prefix(k).contains(y)
        }.count
        return Double(hits) / Double(labels.count)
    }

    /// Expected calibration error of the top prediction, in equal-width confidence bins.
    public static func expectedCalibrationError(_ probabilities: [[Float]], _ labels: [Int], bins: Int = 15) -> Double {
        guard !labels.isEmpty else { return 0 }
        var conf = [Double](repeating: 0, count: bins), acc = [Double](repeating: 0, count: bins), n = [Double](repeating: 0, count: bins)
        for (p, y) in zip(probabilities, labels) {
            let k = argmax(p), c = Double(p[k])
            let b = min(Int(c * Double(bins)), bins - 1)
            conf[b] += c; acc[b] += k == y ? 1 : 0; n[b] += 1
        }
        return (0..<bins).reduce(0) { $0 + (n[$1] > 0 ? abs(acc[$1] - conf[$1]) : 0) } / Double(labels.count)
    }

    /// Multi-class Brier score: mean over cases of Σ_k (p_k − y_k)².
    public static func brier(_ probabilities: [[Float]], _ labels: [Int]) -> Double {
        guard !labels.isEmpty else { return 0 }
        return zip(probabilities, labels).reduce(0.0) { s, e in
            s + e.0.indices.reduce(0.0) { $0 + Foundation.pow(Double(e.0[$1]) - ($1 == e.1 ? 1 : 0), 2) }
        } / Double(labels.count)
    }
}
