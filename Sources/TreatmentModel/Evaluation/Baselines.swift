import CKernels
import Foundation

/// A recommender scored beside the model: anything that gives a distribution over treatments
/// for an example.
public protocol Recommender: Sendable {
    var name: String { get }
    func probabilities(_ example: Dataset.Example) -> [Float]
    /// Distributions of many examples (one call, where a library predicts in batches).
    func probabilities(batch examples: [Dataset.Example]) -> [[Float]]
}

extension Recommender {
    public func probabilities(batch examples: [Dataset.Example]) -> [[Float]] { examples.map(probabilities) }
}

/// Always the training set's most frequent treatment, with the training frequencies as its
/// distribution.
public struct MajorityClass: Recommender {
    public let name = "majority class"
    public let frequencies: [Float]

    public init(train: Dataset) {
        var counts = [Float](repeating: 0, count: train.treatments.count)
        for e in train.examples { counts[e.label] += 1 }
        let total = max(counts.reduce(0, +), 1)
        frequencies = counts.map { $0 / total }
    }

    public func probabilities(_ example: Dataset.Example) -> [Float] { frequencies }
}

/// Multinomial logistic regression on the last visit's standardized features (unknown values
/// at the mean), L2-regularised, fitted by full-batch Adam: the classical baseline.
///
/// Each epoch is two matrix products over all examples (logits = X·Wᵀ + b, then the gradient
/// (P − Y)ᵀ·X / n), through the model's own `Linear` layer: 270,000 examples × 400 epochs took
/// a minute example by example and take seconds this way.
public struct LogisticRegression: Recommender {
    public let name = "logistic regression (last visit)"
    var weights: [Float]      // [K, F]
    var bias: [Float]         // [K]
    let mean: [Float], std: [Float]
    let F: Int, K: Int

    public init(train: Dataset, l2: Float = 1e-3, epochs: Int = 400, learningRate: Float = 0.05) {
        BLAS.ensureConfigured()
        let F = train.features.count, K = train.treatments.count
        self.F = F; self.K = K
        let last = Dataset(examples: train.examples.map { Dataset.Example(patientID: $0.patientID, rows: [$0.rows.last!], label: $0.label) },
                           features: train.features, treatments: train.treatments)
        let (mean, std) = last.standardization()
        self.mean = mean; self.std = std
        let x = train.examples.flatMap { Self.standardize($0.rows.last!, mean, std) }
        let y = train.labels
        var params = [Float](repeating: 0, count: K * F + K)
        var adam = Adam(count: params.count, learningRate: learningRate)
        for _ in 0..<epochs {
            var g = Self.gradient(params, x: x, y: y, F: F, K: K)
            for i in 0..<(K * F) { g[i] += l2 * params[i] }
            adam.update(&params, g)
        }
        weights = Array(params[0..<(K * F)]); bias = Array(params[(K * F)...])
    }

    /// The gradient of the mean cross-entropy over examples `x` (`[n, F]`, standardized) with
    /// labels `y`, with respect to `params` (W `[K, F]` then b `[K]`).
    static func gradient(_ params: [Float], x: [Float], y: [Int], F: Int, K: Int) -> [Float] {
        let n = y.count
        var g = [Float](repeating: 0, count: K * F + K)
        guard n > 0 else { return g }
        var d = [Float](repeating: 0, count: n * K)
        params.withUnsafeBufferPointer { p in
        x.withUnsafeBufferPointer { xp in
        d.withUnsafeMutableBufferPointer { dp in
        g.withUnsafeMutableBufferPointer { gp in
            let d = dp.baseAddress!
            Linear.forward(x: xp.baseAddress!, w: p.baseAddress!, b: p.baseAddress! + K * F, y: d, n: n, in: F, out: K)
            // Softmax of each row, then (P − Y) / n.
            for i in 0..<n {
                let row = d + i * K
                var m = -Float.infinity
                for k in 0..<K { m = max(m, row[k]) }
                for k in 0..<K { row[k] -= m }
            }
            rk_exp(d, n * K)
            let scale = 1 / Float(n)
            for i in 0..<n {
                let row = d + i * K
                var total: Float = 0
                for k in 0..<K { total += row[k] }
                for k in 0..<K { row[k] /= total }
                row[y[i]] -= 1
                for k in 0..<K { row[k] *= scale }
            }
            Linear.backward(dy: d, x: xp.baseAddress!, w: p.baseAddress!, dw: gp.baseAddress!, db: gp.baseAddress! + K * F, dx: nil,
                            n: n, in: F, out: K)
        }}}}
        return g
    }

    public func probabilities(_ example: Dataset.Example) -> [Float] {
        Self.softmax(Self.logits(Self.standardize(example.rows.last!, mean, std), weights + bias, F: F, K: K))
    }

    static func standardize(_ row: [Float], _ mean: [Float], _ std: [Float]) -> [Float] {
        row.indices.map { row[$0].isNaN ? 0 : (row[$0] - mean[$0]) / std[$0] }
    }

    static func logits(_ x: [Float], _ p: [Float], F: Int, K: Int) -> [Float] {
        (0..<K).map { k in (0..<F).reduce(p[K * F + k]) { $0 + p[k * F + $1] * x[$1] } }
    }

    static func softmax(_ z: [Float]) -> [Float] { Softmax.rows(z, z.count) }
}

/// The trained model as a recommender.
///
/// `columns` (indices into the examples' columns) picks the model's own features when the
/// examples carry more than the model was trained on.
public struct ModelRecommender: Recommender {
    public let name: String
    public let model: TreatmentNetwork
    public let columns: [Int]?
    public init(name: String? = nil, model: TreatmentNetwork, columns: [Int]? = nil) { self.name = name ?? model.name; self.model = model; self.columns = columns }
    public func probabilities(_ example: Dataset.Example) -> [Float] {
        let rows = columns.map { Dataset.project(example.rows, $0) } ?? example.rows
        return model.forward(SequenceBatch(sequences: [model.standardize(rows)], features: model.shape.features)).probabilities(0)
    }
}
