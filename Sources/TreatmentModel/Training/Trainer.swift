import Foundation

/// How a model is trained. Defaults follow Kukalakunta, Thuniki and Yellu's setting (Adam,
/// learning rate 0.001, batch size 32) with early stopping on validation loss.
public struct TrainingConfig: Sendable, Codable, Equatable {
    /// `retain-v1` (the default) or `gru-attention-v1`.
    public var architecture = RETAIN.architecture
    /// 64 and 64 for the shipped retain-v1 model (test macro F1 0.538 against 0.528 at 32 and 32 on the default cohort).
    public var embed = 64
    /// Hidden size of each recurrent network (retain-v1: 64, see `embed`; gru-attention-v1 shipped with 64 too).
    public var hidden = 64
    public var attention = 32
    /// Width of `retain-mlp-v1`'s hidden embedding layer (unused by the other architectures).
    public var embedHidden = 128
    /// 20 epochs with patience 4: the shipped model's validation objective was best at epoch 5 and
    /// rose after it (the decision points of one history are correlated, so it overfits early).
    public var epochs = 20
    public var batchSize = 32
    public var learningRate: Float = 0.001
    /// Epochs without a better validation loss (the training objective: soft targets where the
    /// validation split has utilities) before stopping.
    public var patience = 4
    public var clipNorm: Float = 5
    /// Decoupled weight decay (AdamW); 0 for plain Adam.
    public var weightDecay: Float = 0
    /// Class weights in the loss, (N / (K · n_k))^classBalance: 0 weighs every example alike,
    /// 1 fully balances the treatments.
    public var classBalance: Float = 0
    /// Soft targets from the simulated utilities where an example has them: softmax(u / τ_u)
    /// with this τ_u (utility units); 0 trains on the best option alone (one-hot).
    public var utilityTemperature: Float = 0.05
    /// Calibrate with a bias per class beside the temperature (`PriorCalibration`), folded into
    /// the output bias; false fits the temperature alone.
    public var classBiasCalibration = true
    /// Weight of an example ending at its history's index visit, against 1 for the earlier
    /// decision points (1: all alike).
    public var indexWeight: Float = 5
    /// The learning rate is multiplied by this after every epoch (1: constant).
    public var learningRateDecay: Float = 0.85
    /// Polyak averaging: validation, early stopping and the saved model use an exponential
    /// moving average of the weights, updated after every step with this decay (0: none).
    public var averaging: Float = 0.9995
    public var seed: UInt64 = 20_240_601
    /// Threads: with more than one, each batch is split into that many parts whose gradients are
    /// computed at once and added in order. Same seed, data, configuration and threads: the same
    /// model, byte for byte.
    public var threads = 1
    public init() {}

    /// The settings the simulation's weakened starting model is trained with (`rounds simulate
    /// --start weak`): the shipped settings before weight averaging, learning-rate decay and
    /// index weighting, so that a model trained on a few hundred patients stays weak enough for
    /// the simulated clinician's feedback to show.
    public static var weakStart: TrainingConfig {
        var c = TrainingConfig()
        c.utilityTemperature = 0.1; c.averaging = 0; c.learningRateDecay = 1; c.indexWeight = 1
        return c
    }

    /// Reads a configuration as any model file recorded it: a setting older files lack keeps its
    /// default, except the architecture, which was `gru-attention-v1` before there was a choice.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func get<T: Decodable>(_ k: CodingKeys, _ d: T) throws -> T { try c.decodeIfPresent(T.self, forKey: k) ?? d }
        architecture = try get(.architecture, GRUAttention.architecture)
        embed = try get(.embed, embed); hidden = try get(.hidden, hidden); embedHidden = try get(.embedHidden, embedHidden); attention = try get(.attention, attention)
        epochs = try get(.epochs, epochs); batchSize = try get(.batchSize, batchSize); learningRate = try get(.learningRate, learningRate)
        patience = try get(.patience, patience); clipNorm = try get(.clipNorm, clipNorm); weightDecay = try get(.weightDecay, weightDecay)
        classBalance = try get(.classBalance, classBalance); utilityTemperature = try get(.utilityTemperature, 0)
        seed = try get(.seed, seed); threads = try get(.threads, threads)
        classBiasCalibration = try get(.classBiasCalibration, false)
        learningRateDecay = try get(.learningRateDecay, 1); averaging = try get(.averaging, 0); indexWeight = try get(.indexWeight, 1)
    }
}

/// One epoch's report.
public struct EpochReport: Sendable, Codable {
    public var epoch: Int
    public var trainLoss: Float
    public var validationLoss: Float
    public var validationAccuracy: Double
    public var validationMacroF1: Double
    public var seconds: Double
    public var best: Bool
}

/// Trains a treatment model (either architecture) on labelled sequences.
public struct Trainer: Sendable {
    public let config: TrainingConfig
    public init(config: TrainingConfig) { self.config = config }

    public struct Result: Sendable {
        /// The model of lowest validation loss, its temperature fitted on the validation split.
        public var model: TreatmentNetwork
        public var history: [EpochReport]
        public var bestEpoch: Int
        public var interrupted: Bool
        public var sequencesPerSecond: Double
    }

    /// `shouldStop` is polled between batches (Ctrl-C); `report` hears every epoch.
    public func train(train: Dataset, validation: Dataset, report: (EpochReport) -> Void = { _ in },
                      shouldStop: () -> Bool = { false }) -> Result {
        // The products are too small for OpenBLAS's own threads; the batch is split instead.
        BLAS.setThreads(1)
        let (mean, std) = train.standardization()
        let shape = ModelShape(features: train.features.count, embed: config.embed, hidden: config.hidden,
                               attention: config.attention, treatments: train.treatments.count)
        var model = TreatmentNetwork(architecture: config.architecture, shape: shape, embedHidden: config.embedHidden, seed: config.seed)
        model.standardization = (mean, std)
        // Standardized batch by batch, not all at once: the examples of one history share its
        // rows, their standardized copies would not (900 MB for the default cohort's 270,000
        // decision points, against about 2 % more time per epoch this way).
        let trainLengths = train.examples.map(\.rows.count)
        var adam = Adam(count: model.parameters.count, learningRate: config.learningRate)
        var counts = [Float](repeating: 0, count: shape.treatments)
        for e in train.examples { counts[e.label] += 1 }
        let classWeight = counts.map { n in n > 0 ? Float(Foundation.pow(Double(train.examples.count) / (Double(shape.treatments) * Double(n)), Double(config.classBalance))) : 0 }
        var rng = ModelRandom(seed: config.seed &+ 1)
        var best = model, bestLoss = Float.infinity, bestEpoch = 0, stale = 0
        var history: [EpochReport] = []
        var seen = 0
        // The averaged weights (Polyak), when configured; the optimizer moves `model`.
        var averaged = config.averaging > 0 ? model : nil, steps = 0
        let started = Date()
        var interrupted = false
        epochs: for epoch in 1...max(config.epochs, 1) {
            let t0 = Date()
            var total: Float = 0, count = 0
            for batch in batches(lengths: trainLengths, rng: &rng) {
                if shouldStop() { interrupted = true; break epochs }
                let weights = exampleWeights(batch.map { train.examples[$0] }, classWeight: classWeight)
                var (loss, g) = gradient(model, batch.map { train.examples[$0] }, weights: weights)
                Adam.clip(&g, maxNorm: config.clipNorm)
                if config.weightDecay > 0 {
                    let k = 1 - config.learningRate * config.weightDecay
                    for i in model.parameters.indices { model.parameters[i] *= k }
                }
                adam.update(&model.parameters, g)
                if averaged != nil { Polyak.update(&averaged!.parameters, toward: model.parameters, decay: Polyak.decay(step: steps, maximum: config.averaging)) }
                steps += 1
                total += loss * Float(batch.count); count += batch.count
                seen += batch.count
            }
            adam.learningRate *= config.learningRateDecay
            let current = averaged ?? model
            let probs = Self.predict(current, validation)
            // The training objective on the validation split (soft targets where it has
            // utilities), so that stopping follows what is optimized, not the argmax alone.
            let valLoss = Softmax.softCrossEntropy(probabilities: probs.flatMap { $0 }, targets: validation.examples.flatMap { target($0, K: shape.treatments) },
                                                   weights: nil, total: Float(validation.examples.count), K: shape.treatments).loss
            let predicted = probs.map { Metrics.argmax($0) }
            let improved = valLoss < bestLoss
            if improved { best = current; bestLoss = valLoss; bestEpoch = epoch; stale = 0 } else { stale += 1 }
            let r = EpochReport(epoch: epoch, trainLoss: total / Float(max(count, 1)), validationLoss: valLoss,
                                validationAccuracy: Metrics.accuracy(predicted, validation.labels),
                                validationMacroF1: Metrics.macroF1(predicted, validation.labels, K: shape.treatments),
                                seconds: Date().timeIntervalSince(t0), best: improved)
            history.append(r)
            report(r)
            if stale >= config.patience { break }
        }
        // Calibrated on the validation split: the temperature changes no ranking; the class
        // biases (when configured) restore how often each option is the best one.
        if !interrupted { best = Self.calibrated(best, on: validation, classBias: config.classBiasCalibration) }
        return Result(model: best, history: history, bestEpoch: bestEpoch, interrupted: interrupted,
                      sequencesPerSecond: Double(seen) / max(Date().timeIntervalSince(started), 1e-9))
    }

    /// Each example's weight in the loss: its class's weight (`classBalance`) times
    /// `indexWeight` if it ends at its index visit; nil when all would be 1.
    func exampleWeights(_ examples: [Dataset.Example], classWeight: [Float]? = nil) -> [Float]? {
        guard config.classBalance != 0 || config.indexWeight != 1 else { return nil }
        return examples.map { (classWeight?[$0.label] ?? 1) * ($0.isIndex ? config.indexWeight : 1) }
    }

    /// The batch's mean loss and its gradient. With `threads` above one, the batch is cut into
    /// that many contiguous parts, each part's gradient (normalized by the whole batch's weight)
    /// computed on its own thread, and the parts' gradients added in order.
    func gradient(_ model: TreatmentNetwork, _ examples: [Dataset.Example], weights: [Float]?) -> (loss: Float, gradient: [Float]) {
        let K = model.shape.treatments, F = model.shape.features
        let total = weights?.reduce(0, +) ?? Float(examples.count)
        @Sendable func part(_ range: Range<Int>) -> (Float, [Float]) {
            let pass = model.forward(SequenceBatch(sequences: examples[range].map { model.standardize($0.rows) }, features: F))
            let targets = examples[range].flatMap { target($0, K: K) }
            let (loss, dl) = Softmax.softCrossEntropy(probabilities: pass.probabilities, targets: targets,
                                                      weights: weights.map { Array($0[range]) }, total: total, K: K)
            return (loss, model.backward(pass, dLogits: dl).parameters)
        }
        let parts = min(max(config.threads, 1), examples.count)
        guard parts > 1 else { return part(0..<examples.count) }
        let bounds = (0...parts).map { $0 * examples.count / parts }
        let all = ParallelMap.map(count: parts) { i in part(bounds[i]..<bounds[i + 1]) }
        var loss: Float = 0, g = [Float](repeating: 0, count: model.parameters.count)
        for (l, gi) in all { loss += l; for j in g.indices { g[j] += gi[j] } }
        return (loss, g)
    }

    /// What an example is trained towards: softmax(u / τ_u) over its utilities when it has them
    /// and `utilityTemperature` is positive, else the best option alone.
    func target(_ e: Dataset.Example, K: Int) -> [Float] {
        if config.utilityTemperature > 0, let u = e.utilities, u.count == K {
            return Softmax.rows(u.map { $0 / config.utilityTemperature }, K)
        }
        var q = [Float](repeating: 0, count: K)
        q[e.label] = 1
        return q
    }

    /// Batches of indices: shuffled, then sorted by length within groups of eight batches (less
    /// padding), then the batches shuffled again. Deterministic given the generator.
    func batches(lengths: [Int], rng: inout ModelRandom) -> [[Int]] {
        var order = Array(lengths.indices)
        rng.shuffle(&order)
        let group = config.batchSize * 8
        var out: [[Int]] = []
        for start in stride(from: 0, to: order.count, by: group) {
            let chunk = order[start..<min(order.count, start + group)].sorted { (lengths[$0], $0) < (lengths[$1], $1) }
            for s in stride(from: 0, to: chunk.count, by: config.batchSize) {
                out.append(Array(chunk[(chunk.startIndex + s)..<min(chunk.endIndex, chunk.startIndex + s + config.batchSize)]))
            }
        }
        rng.shuffle(&out)
        return out
    }

    /// Probabilities for a dataset's examples, standardized batch by batch, in batches of
    /// similar length.
    public static func predict(_ model: TreatmentNetwork, _ data: Dataset, batchSize: Int = 128) -> [[Float]] {
        outputs(model, data, batchSize: batchSize).map(\.probabilities)
    }

    /// Logits (after the model's temperature) and probabilities for a dataset's examples.
    public static func outputs(_ model: TreatmentNetwork, _ data: Dataset, batchSize: Int = 128) -> [(logits: [Float], probabilities: [Float])] {
        let F = model.shape.features, K = model.shape.treatments
        let order = data.examples.indices.sorted { (data.examples[$0].rows.count, $0) < (data.examples[$1].rows.count, $1) }
        var out = [(logits: [Float], probabilities: [Float])](repeating: ([], []), count: data.examples.count)
        for start in stride(from: 0, to: order.count, by: batchSize) {
            let idx = Array(order[start..<min(order.count, start + batchSize)])
            let pass = model.forward(SequenceBatch(sequences: idx.map { model.standardize(data.examples[$0].rows) }, features: F))
            let logits = pass.logits
            for (b, i) in idx.enumerated() { out[i] = (Array(logits[(b * K)..<(b * K + K)]), pass.probabilities(b)) }
        }
        return out
    }

    /// Fits the model's temperature on `data` (the validation split) when its architecture has
    /// one; returns the model with it set.
    public static func calibrated(_ model: TreatmentNetwork, on data: Dataset, classBias: Bool = false) -> TreatmentNetwork {
        guard model.hasTemperature else { return model }
        var m = model
        m.temperature = 1
        let logits = outputs(m, data).flatMap(\.logits)
        guard classBias else {
            m.temperature = TemperatureScaling.fit(logits: logits, labels: data.labels, K: m.shape.treatments)
            return m
        }
        let fit = PriorCalibration.fit(logits: logits, labels: data.labels, K: m.shape.treatments)
        m.temperature = fit.temperature
        return m.addingOutputBias(fit.bias)
    }
}
