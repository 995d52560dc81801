import Foundation

/// The range of raw values (canonical units, before standardization) that each input column
/// took in the training data: stored in a model file as the optional tensors `train_min` and
/// `train_max` (float32, shape `[F]`, one entry per column of the file's `features` list), so
/// that a view can name an input that lies outside what the model was trained on.
///
/// Generic on purpose: it knows columns, not features, so any architecture over the same kind
/// of input carries it. A column never observed in training (all values unknown) holds NaN in
/// both tensors, and every known value of it counts as outside.
public struct TrainingRange: Sendable, Equatable {
    public var min: [Float]
    public var max: [Float]

    public init(min: [Float], max: [Float]) { self.min = min; self.max = max }

    /// The observed range of every column over the rows of `examples` (NaN, i.e. unknown, ignored).
    public static func observed<S: Sequence>(rows sequences: S, columns: Int) -> TrainingRange where S.Element == [[Float]] {
        var lo = [Float](repeating: .infinity, count: columns)
        var hi = [Float](repeating: -.infinity, count: columns)
        for rows in sequences {
            for row in rows {
                for j in 0..<Swift.min(columns, row.count) where !row[j].isNaN {
                    if row[j] < lo[j] { lo[j] = row[j] }
                    if row[j] > hi[j] { hi[j] = row[j] }
                }
            }
        }
        for j in 0..<columns where lo[j] > hi[j] { lo[j] = .nan; hi[j] = .nan }
        return TrainingRange(min: lo, max: hi)
    }

    /// Checks the tensors as a model file holds them.
    func validate(columns: Int) throws {
        guard min.count == columns, max.count == columns else {
            throw ModelFileError.invalid("train_min/train_max hold \(min.count)/\(max.count) values for \(columns) features")
        }
        for j in 0..<columns {
            let (a, b) = (min[j], max[j])
            if a.isNaN && b.isNaN { continue }
            guard a.isFinite, b.isFinite, a <= b else { throw ModelFileError.invalid("train_min[\(j)] = \(a), train_max[\(j)] = \(b): not a range") }
        }
    }

    /// One input outside the range: its column, the value, and the range trained on (nil bounds:
    /// never observed in training).
    public struct Excess: Sendable, Equatable {
        public var column: Int
        public var value: Float
        public var min: Float?
        public var max: Float?
    }

    /// The known values of `rows` outside the range, one per column: the one furthest outside.
    public func outside(_ rows: [[Float]]) -> [Excess] {
        var out: [Int: (Excess, Float)] = [:]
        for row in rows {
            for j in 0..<Swift.min(row.count, min.count) where !row[j].isNaN {
                let v = row[j]
                let distance: Float
                if min[j].isNaN { distance = .infinity }
                else if v < min[j] { distance = min[j] - v }
                else if v > max[j] { distance = v - max[j] }
                else { continue }
                if (out[j]?.1 ?? -1) < distance || (distance == .infinity && out[j] == nil) {
                    out[j] = (Excess(column: j, value: v, min: min[j].isNaN ? nil : min[j], max: max[j].isNaN ? nil : max[j]), distance)
                }
            }
        }
        return out.keys.sorted().map { out[$0]!.0 }
    }
}
