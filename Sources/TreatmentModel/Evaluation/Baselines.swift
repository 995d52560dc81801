import Foundation

/// A recommender scored beside the model: anything that gives a distribution over treatments
/// for an example.
public protocol Recommender: Sendable {
    var name: String { get }
    func probabilities(_ example: Dataset.Example) -> [Float]
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
public struct LogisticRegression: Recommender {
    public let name = "logistic regression (last visit)"
    var weights: [Float]      // [K, F]
    var bias: [Float]         // [K]
    let mean: [Float], std: [Float]
    let F: Int, K: Int

    public init(train: Dataset, l2: Float = 1e-3, epochs: Int = 400, learningRate: Float = 0.05) {
        F = train.features.count; K = train.treatments.count
        let last = Dataset(examples: train.examples.map { Dataset.Example(patientID: $0.patientID, rows: [$0.rows.last!], label: $0.label) },
                           features: train.features, treatments: train.treatments)
        (mean, std) = last.standardization()
        weights = [Float](repeating: 0, count: K * F); bias = [Float](repeating: 0, count: K)
        let xs = train.examples.map { Self.standardize($0.rows.last!, mean, std) }
        let ys = train.labels
        let n = Float(max(xs.count, 1))
        var params = weights + bias
        var adam = Adam(count: params.count, learningRate: learningRate)
        for _ in 0..<epochs {
            var g = [Float](repeating: 0, count: params.count)
            for (x, y) in zip(xs, ys) {
                let p = Self.softmax(Self.logits(x, params, F: F, K: K))
                for k in 0..<K {
                    let d = (p[k] - (k == y ? 1 : 0)) / n
                    for f in 0..<F { g[k * F + f] += d * x[f] }
                    g[K * F + k] += d
                }
            }
            for i in 0..<(K * F) { g[i] += l2 * params[i] }
            adam.update(&params, g)
        }
        weights = Array(params[0..<(K * F)]); bias = Array(params[(K * F)...])
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
public struct ModelRecommender: Recommender {
    public let name: String
    public let model: GRUAttention
    public init(name: String = "GRU + attention", model: GRUAttention) { self.name = name; self.model = model }
    public func probabilities(_ example: Dataset.Example) -> [Float] {
        model.forward(SequenceBatch(sequences: [model.standardize(example.rows)], features: model.shape.features)).probabilities(0)
    }
}
