import Foundation
import Patients

/// Is the attention faithful? Removing the visits a model attends to most should change its
/// output more than removing as many visits at random.
///
/// For each sequence longer than k visits: the distribution on the whole sequence, then with
/// the k visits of highest attention removed, and with k visits chosen at random removed
/// (`randomDraws` draws, averaged); each change measured as total variation,
/// ½ Σ |p − q|. Intervals are percentile bootstrap over the sequences (the same resamples for
/// both, so the difference has its own interval). Also how often attention peaks on the last
/// visit and the mean weight there.
///
/// The model is a closure from raw visit rows to its distribution and attention over those
/// visits, so any attention model can be tested the same way.
public enum DeletionTest {
    public typealias Predictor = @Sendable ([[Float]]) -> (probabilities: [Float], attention: [Float])

    public struct Result: Sendable, Codable, Equatable {
        public var k: Int
        /// Sequences with more than k visits.
        public var sequences: Int
        public var topAttention: Estimate
        public var random: Estimate
        /// topAttention − random, paired.
        public var difference: Estimate
    }

    public struct Report: Sendable, Codable, Equatable {
        public var results: [Result]
        /// Sequences of two or more visits, and the share whose attention peaks on the last one.
        public var sequences: Int
        public var peakOnLastVisit: Estimate
        public var meanWeightOnLastVisit: Estimate
    }

    /// ½ Σ |p − q|.
    public static func totalVariation(_ p: [Float], _ q: [Float]) -> Double {
        0.5 * zip(p, q).reduce(0) { $0 + abs(Double($1.0) - Double($1.1)) }
    }

    /// Indices of the `k` largest weights (ties to the later visit).
    public static func top(_ k: Int, of weights: [Float]) -> [Int] {
        Array(weights.indices.sorted { (weights[$0], $0) > (weights[$1], $1) }.prefix(k))
    }

    static func removing(_ rows: [[Float]], _ drop: Set<Int>) -> [[Float]] {
        rows.indices.filter { !drop.contains($0) }.map { rows[$0] }
    }

    /// Runs the test on `sequences` (raw rows, oldest first) for each k, on all cores.
    public static func run(sequences: [[[Float]]], ks: [Int] = [1, 3], randomDraws: Int = 3, resamples: Int = 1000, seed: UInt64 = 17,
                           predictor: Predictor) -> Report {
        struct Case: Sendable { var last: Bool; var lastWeight: Double; var top: [Double]; var random: [Double] }
        let cases: [Case?] = ParallelMap.map(count: sequences.count) { i in
            let rows = sequences[i]
            guard rows.count >= 2 else { return nil }
            let full = predictor(rows)
            var rng = SplitMix(seed: seed, stream: UInt64(i))
            var top: [Double] = [], random: [Double] = []
            for k in ks {
                guard rows.count > k else { top.append(.nan); random.append(.nan); continue }
                top.append(totalVariation(full.probabilities, predictor(removing(rows, Set(Self.top(k, of: full.attention)))).probabilities))
                var sum = 0.0
                for _ in 0..<randomDraws {
                    var order = Array(rows.indices)
                    for j in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(j, Int(rng.next() % UInt64(j + 1))) }
                    sum += totalVariation(full.probabilities, predictor(removing(rows, Set(order.prefix(k)))).probabilities)
                }
                random.append(sum / Double(randomDraws))
            }
            let peak = Self.top(1, of: full.attention).first ?? 0
            return Case(last: peak == rows.count - 1, lastWeight: Double(full.attention.last ?? 0), top: top, random: random)
        }
        let valid = cases.compactMap { $0 }
        func mean(_ v: [Double], _ idx: [Int]) -> Double { idx.isEmpty ? 0 : idx.reduce(0) { $0 + v[$1] } / Double(idx.count) }
        let results = ks.enumerated().map { j, k -> Result in
            let use = valid.filter { !$0.top[j].isNaN }
            let t = use.map { $0.top[j] }, r = use.map { $0.random[j] }
            return Result(k: k, sequences: use.count,
                          topAttention: PairedBootstrap.interval(count: use.count, resamples: resamples, seed: seed) { mean(t, $0) },
                          random: PairedBootstrap.interval(count: use.count, resamples: resamples, seed: seed) { mean(r, $0) },
                          difference: PairedBootstrap.interval(count: use.count, resamples: resamples, seed: seed) { mean(t, $0) - mean(r, $0) })
        }
        let last = valid.map { $0.last ? 1.0 : 0 }, weight = valid.map(\.lastWeight)
        return Report(results: results, sequences: valid.count,
                      peakOnLastVisit: PairedBootstrap.interval(count: valid.count, resamples: resamples, seed: seed) { mean(last, $0) },
                      meanWeightOnLastVisit: PairedBootstrap.interval(count: valid.count, resamples: resamples, seed: seed) { mean(weight, $0) })
    }
}
