import CXGBoost
import Foundation

/// Gradient-boosted trees (XGBoost's C API, `multi:softprob`) on the last visit plus history
/// aggregates (`HistoryAggregates`): the strongest classical baseline the model is held to.
///
/// Fitted in the same run on the same split as everything `evaluate` scores: trees of each
/// depth in `Settings.depths` are grown on the training part, one round at a time, with early
/// stopping on the validation part's multi-class log loss (`earlyStoppingRounds` rounds without
/// improvement); the depth and round count of lowest validation loss are kept. Unknown values
/// are XGBoost's missing values (NaN), routed by each split's learned default direction.
public final class GradientBoostedTrees: Recommender, @unchecked Sendable {
    public struct Settings: Sendable, Codable {
        public var depths = [4, 6, 8]
        public var eta = 0.1
        public var maxRounds = 800
        public var earlyStoppingRounds = 30
        public var subsample = 0.8
        public var columnSample = 0.8
        public var minChildWeight = 1.0
        public var lambda = 1.0
        /// XGBoost threads. One by default: `evaluate` fits its recommenders side by side on the cores, and OpenMP
        /// threads that spin at barriers on a busy machine slow the trees down many times over.
        public var threads = 1
        public var seed = 7
        public init() {}
    }

    /// What was chosen on the validation part.
    public struct Fit: Sendable, Codable {
        public var depth: Int
        public var rounds: Int
        public var validationLogLoss: Double
        /// Each depth tried: its best round count and validation log loss.
        public var tried: [[Double]]
    }

    public let name: String
    public let fit: Fit
    let aggregates: HistoryAggregates
    let K: Int
    /// The booster (owned; freed on deinit). XGBoost's prediction is called from one thread at a time (`lock`).
    private let booster: BoosterHandle
    private let lock = NSLock()

    public enum Failure: Error, CustomStringConvertible {
        case xgboost(String)
        public var description: String { switch self { case .xgboost(let m): return "XGBoost: \(m)" } }
    }

    static func check(_ status: Int32) throws {
        if status != 0 { throw Failure.xgboost(String(cString: XGBGetLastError())) }
    }

    /// A dense float matrix of `rows` (NaN: missing).
    final class Matrix {
        var handle: DMatrixHandle?
        init(_ rows: [[Float]], width: Int, labels: [Int]? = nil) throws {
            var flat = [Float]()
            flat.reserveCapacity(rows.count * width)
            for r in rows { flat += r }
            try check(XGDMatrixCreateFromMat(flat, bst_ulong(rows.count), bst_ulong(width), .nan, &handle))
            if let labels {
                let y = labels.map(Float.init)
                try check(XGDMatrixSetFloatInfo(handle, "label", y, bst_ulong(y.count)))
            }
        }
        deinit { if let handle { XGDMatrixFree(handle) } }
    }

    /// Fits on `train`, choosing depth and rounds on `validation` (both with the same features).
    public init(train: Dataset, validation: Dataset, aggregates: HistoryAggregates, settings: Settings = Settings()) throws {
        precondition(!train.examples.isEmpty && !validation.examples.isEmpty, "trees need training and validation examples")
        self.aggregates = aggregates
        K = train.treatments.count
        let width = aggregates.names.count
        let dtrain = try Matrix(train.examples.map { aggregates.row($0.rows) }, width: width, labels: train.labels)
        let dval = try Matrix(validation.examples.map { aggregates.row($0.rows) }, width: width, labels: validation.labels)
        var best: (booster: BoosterHandle, depth: Int, rounds: Int, loss: Double)?
        var tried: [[Double]] = []
        for depth in settings.depths {
            var handles: [DMatrixHandle?] = [dtrain.handle, dval.handle]
            var b: BoosterHandle?
            try Self.check(XGBoosterCreate(&handles, 2, &b))
            guard let booster = b else { throw Failure.xgboost("no booster") }
            let params: [(String, String)] = [
                ("objective", "multi:softprob"), ("num_class", "\(K)"), ("eval_metric", "mlogloss"), ("tree_method", "hist"),
                ("max_depth", "\(depth)"), ("eta", "\(settings.eta)"), ("subsample", "\(settings.subsample)"),
                ("colsample_bytree", "\(settings.columnSample)"), ("min_child_weight", "\(settings.minChildWeight)"),
                ("lambda", "\(settings.lambda)"), ("nthread", "\(settings.threads)"), ("seed", "\(settings.seed)"), ("verbosity", "0"),
            ]
            for (k, v) in params { try Self.check(XGBoosterSetParam(booster, k, v)) }
            var bestLoss = Double.infinity, bestRound = 0
            for round in 0..<settings.maxRounds {
                try Self.check(XGBoosterUpdateOneIter(booster, Int32(round), dtrain.handle))
                let loss = try Self.validationLoss(booster, round: round, dval)
                if loss < bestLoss - 1e-6 { bestLoss = loss; bestRound = round + 1 } else if round + 1 - bestRound >= settings.earlyStoppingRounds { break }
            }
            tried.append([Double(depth), Double(bestRound), bestLoss])
            if best == nil || bestLoss < best!.loss {
                if let old = best { XGBoosterFree(old.booster) }
                best = (booster, depth, bestRound, bestLoss)
            } else {
                XGBoosterFree(booster)
            }
        }
        // Keep only the best rounds of the best depth.
        var sliced: BoosterHandle?
        try Self.check(XGBoosterSlice(best!.booster, 0, Int32(best!.rounds), 1, &sliced))
        XGBoosterFree(best!.booster)
        booster = sliced!
        fit = Fit(depth: best!.depth, rounds: best!.rounds, validationLogLoss: best!.loss, tried: tried)
        name = "gradient-boosted trees (XGBoost, depth \(best!.depth), \(best!.rounds) rounds)"
    }

    deinit { XGBoosterFree(booster) }

    /// The validation log loss after `round`, parsed from XGBoost's evaluation line ("[r]\tval-mlogloss:0.5").
    static func validationLoss(_ booster: BoosterHandle, round: Int, _ dval: Matrix) throws -> Double {
        var handles: [DMatrixHandle?] = [dval.handle]
        var out: UnsafePointer<CChar>?
        let names: [String] = ["val"]
        try names.withCStrings { ptrs in
            var p = ptrs
            try check(XGBoosterEvalOneIter(booster, Int32(round), &handles, &p, 1, &out))
        }
        let line = String(cString: out!)
        guard let colon = line.lastIndex(of: ":"), let v = Double(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)) else {
            throw Failure.xgboost("cannot read the evaluation line '\(line)'")
        }
        return v
    }

    /// Distributions for many examples in one prediction call.
    public func probabilities(batch examples: [Dataset.Example]) -> [[Float]] {
        guard !examples.isEmpty else { return [] }
        lock.lock(); defer { lock.unlock() }
        do {
            let m = try Matrix(examples.map { aggregates.row($0.rows) }, width: aggregates.names.count)
            var length: bst_ulong = 0
            var result: UnsafePointer<Float>?
            try Self.check(XGBoosterPredict(booster, m.handle, 0, 0, 0, &length, &result))
            precondition(Int(length) == examples.count * K, "XGBoost returned \(length) values for \(examples.count) examples")
            return (0..<examples.count).map { i in Array(UnsafeBufferPointer(start: result! + i * K, count: K)) }
        } catch {
            preconditionFailure("\(error)")
        }
    }

    public func probabilities(_ example: Dataset.Example) -> [Float] { probabilities(batch: [example])[0] }
}

extension Array where Element == String {
    /// Calls `body` with C strings of the elements, valid only inside it.
    func withCStrings<R>(_ body: ([UnsafePointer<CChar>?]) throws -> R) rethrows -> R {
        let owned = map { strdup($0) }
        defer { owned.forEach { free($0) } }
        return try body(owned.map { UnsafePointer($0) })
    }
}
