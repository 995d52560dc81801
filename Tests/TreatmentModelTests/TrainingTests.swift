import Foundation
import Testing
@testable import TreatmentModel
import TestSupport
import Cohort
import Patients

@Suite struct TrainingTests {
    /// A tiny dataset whose label is written in the history (did the first value rise or fall
    /// by the last visit?): the model must fit it exactly.
    static func tinyDataset(_ n: Int, seed: UInt64) -> Dataset {
        var rng = ModelRandom(seed: seed)
        let examples = (0..<n).map { i -> Dataset.Example in
            let T = 2 + Int(rng.next() % 5)
            let up = i % 2 == 0
            let rows = (0..<T).map { t -> [Float] in
                let trend: Float = (up ? 1 : -1) * Float(t) / Float(T - 1)
                return [trend + rng.uniform(-0.1, 0.1), rng.uniform(-1, 1), t == T - 1 ? 1 : 0]
            }
            return Dataset.Example(patientID: "p\(i)", rows: rows, label: up ? 1 : 0)
        }
        return Dataset(examples: examples, features: ["a", "b", "last"], treatments: ["down", "up", "other"])
    }

    func config() -> TrainingConfig {
        var c = TrainingConfig()
        c.embed = 8; c.hidden = 8; c.attention = 4; c.epochs = 150; c.patience = 150; c.batchSize = 8; c.learningRate = 0.01
        c.averaging = 0; c.learningRateDecay = 1; c.indexWeight = 1
        return c
    }

    @Test func fitsATinyDatasetExactly() {
        let data = Self.tinyDataset(40, seed: 1)
        let result = Trainer(config: config()).train(train: data, validation: data)
        let probs = Trainer.predict(result.model, data)
        #expect(Metrics.accuracy(probs.map(Metrics.argmax), data.labels) == 1)
        #expect(result.history.last!.trainLoss < 0.05)
    }

    @Test func sameSeedSameDataSameFileByteForByte() throws {
        var c = config(); c.epochs = 5
        let data = Self.tinyDataset(30, seed: 2)
        func train(_ c: TrainingConfig) throws -> Data {
            let r = Trainer(config: c).train(train: data, validation: data)
            return try ModelFile(model: r.model, features: data.features, treatments: data.treatments, extra: ["k": "v"]).encode()
        }
        #expect(try train(c) == train(c))
        var other = c
        other.seed += 1
        #expect(try train(other) != train(c))
    }

    /// A batch split over threads: the parts' gradients add up to the whole batch's (to float
    /// rounding), with and without class weights, and a run on two threads repeats byte for byte.
    @Test func aBatchSplitOverThreadsHasTheWholeBatchsGradient() throws {
        let data = Self.tinyDataset(40, seed: 5)
        let model = TreatmentNetwork.gruAttention(GRUAttention(shape: ModelShape(features: data.features.count, embed: 4, hidden: 5, attention: 3, treatments: data.treatments.count), seed: 3))
        let examples = Array(data.examples.prefix(13))
        for weights in [nil, examples.map { Float(1 + $0.label) }] {
            var one = config(); one.threads = 1
            var three = config(); three.threads = 3
            let (l1, g1) = Trainer(config: one).gradient(model, examples, weights: weights)
            let (l3, g3) = Trainer(config: three).gradient(model, examples, weights: weights)
            #expect(abs(l1 - l3) <= 1e-5 * abs(l1))
            let scale = g1.map(abs).max()!
            #expect(zip(g1, g3).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
        }
        var c = config(); c.epochs = 3; c.threads = 2
        func train() throws -> Data {
            try ModelFile(model: Trainer(config: c).train(train: data, validation: data).model, features: data.features, treatments: data.treatments).encode()
        }
        #expect(try train() == train())
    }

    @Test func interruptionStopsBeforeTheNextBatch() {
        let data = Self.tinyDataset(30, seed: 3)
        var calls = 0
        let r = Trainer(config: config()).train(train: data, validation: data, shouldStop: { calls += 1; return calls > 3 })
        #expect(r.interrupted && r.history.isEmpty)
    }

    @Test func patientLevelSplitIsDisjointAndComplete() {
        let data = Self.tinyDataset(200, seed: 4)
        let (a, b, c) = data.split(seed: 9)
        #expect(a.examples.count == 140 && b.examples.count == 30 && c.examples.count == 30)
        let ids = [a, b, c].map { Set($0.examples.map(\.patientID)) }
        #expect(ids[0].isDisjoint(with: ids[1]) && ids[0].isDisjoint(with: ids[2]) && ids[1].isDisjoint(with: ids[2]))
        #expect(data.split(seed: 9).test.examples.map(\.patientID) == c.examples.map(\.patientID))
    }

    @Test func everyDecisionPointOfAHistoryIsAnExample() throws {
        let pack = TestSupport.pack
        let g = CohortGenerator(seed: 12)
        let patients = (0..<5).map { g.patient($0) }
        let extractor = FeatureExtractor(pack: pack)
        let d = try Dataset(decisionPoints: patients.map { ($0.record, $0.visitLabels) }, extractor: extractor)
        #expect(d.examples.count == patients.reduce(0) { $0 + $1.record.visits.count - 1 })
        let first = patients[0], rows = extractor.matrix(for: first.record).rows
        let mine = d.examples.filter { $0.patientID == first.record.id }
        for (k, e) in mine.enumerated() {
            #expect(e.rows.elementsEqual(rows[0...(k + 1)], by: { zip($0, $1).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) } }))
            #expect(e.label == first.visitLabels[k + 1])
            // Only the sequence that ends at the last visit is the index visit's (indexWeight).
            #expect(e.isIndex == (k == mine.count - 1))
        }
        // A prefix's rows are what the record cut at that visit gives: later visits change nothing before them.
        var cut = first.record
        cut.visits = Array(cut.visits.prefix(2))
        let cutRows = extractor.matrix(for: cut).rows
        #expect(cutRows[1].elementsEqual(rows[1], by: { $0 == $1 || ($0.isNaN && $1.isNaN) }))
        #expect(throws: ModelFileError.self) { try Dataset(decisionPoints: [(first.record, [0])], extractor: extractor) }
        // With every visit's utilities, each decision point carries its own.
        let perVisit = Dictionary(uniqueKeysWithValues: patients.map { ($0.record.id, $0.visitUtilities.map { $0.map(Float.init) }) })
        let soft = try Dataset(decisionPoints: patients.map { ($0.record, $0.visitLabels) }, extractor: extractor, visitUtilities: perVisit)
        for (k, e) in soft.examples.filter({ $0.patientID == first.record.id }).enumerated() {
            #expect(e.utilities == first.visitUtilities[k + 1].map(Float.init))
        }
        #expect(throws: ModelFileError.self) {
            try Dataset(decisionPoints: [(first.record, first.visitLabels)], extractor: extractor, visitUtilities: [first.record.id: [[0]]])
        }
    }

    @Test func standardizationSkipsUnknownValues() {
        let d = Dataset(examples: [.init(patientID: "a", rows: [[1, .nan, 5], [3, .nan, 5]], label: 0)], features: ["x", "y", "z"], treatments: ["t"])
        let (mean, std) = d.standardization()
        #expect(mean == [2, 0, 5] && std == [1, 1, 1])
    }
}

@Suite struct MetricsTests {
    // Hand-computed case: labels and predictions over 3 classes.
    let labels = [0, 0, 1, 1, 2, 2]
    let predicted = [0, 1, 1, 1, 0, 2]

    @Test func handComputedScores() {
        #expect(Metrics.accuracy(predicted, labels) == 4.0 / 6)
        // class 0: P 1/2, R 1/2; class 1: P 2/3, R 1; class 2: P 1, R 1/2
        #expect(abs(Metrics.macroPrecision(predicted, labels, K: 3) - (0.5 + 2.0 / 3 + 1) / 3) < 1e-12)
        #expect(abs(Metrics.macroRecall(predicted, labels, K: 3) - (0.5 + 1 + 0.5) / 3) < 1e-12)
        let f1 = [0.5, 0.8, 2.0 / 3]
        #expect(abs(Metrics.macroF1(predicted, labels, K: 3) - f1.reduce(0, +) / 3) < 1e-12)
        #expect(Metrics.confusion(predicted, labels, K: 3) == [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
        // A class never predicted and never true does not enter the macro average.
        #expect(abs(Metrics.macroF1(predicted, labels, K: 5) - f1.reduce(0, +) / 3) < 1e-12)
    }

    @Test func aucCountsTiesAsHalf() {
        #expect(Metrics.auc(scores: [0.1, 0.4, 0.35, 0.8], positive: [false, false, true, true]) == 0.75)
        #expect(Metrics.auc(scores: [0.5, 0.5], positive: [false, true]) == 0.5)
        #expect(Metrics.auc(scores: [0.1, 0.2], positive: [true, true]) == nil)
    }

    @Test func calibrationAndBrier() {
        let p: [[Float]] = [[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]
        let y = [0, 1, 1]
        // Bins (15): 0.9 → right; 0.6 → wrong; 0.8 → right. ECE = (|1−0.9| + |0−0.6| + |1−0.8|)/3.
        #expect(abs(Metrics.expectedCalibrationError(p, y) - (0.1 + 0.6 + 0.2) / 3) < 1e-6)
        let brier = (0.01 + 0.01 + 0.36 + 0.36 + 0.04 + 0.04) / 3
        #expect(abs(Metrics.brier(p, y) - brier) < 1e-6)
        #expect(Metrics.topK(p, y, k: 1) == 2.0 / 3 && Metrics.topK(p, y, k: 2) == 1)
    }

    @Test func bootstrapIntervalsBracketThePointEstimate() {
        let probs: [[Float]] = (0..<60).map { i in i % 3 == 0 ? [0.7, 0.2, 0.1] : (i % 3 == 1 ? [0.2, 0.6, 0.2] : [0.3, 0.3, 0.4]) }
        let labels = (0..<60).map { $0 % 4 == 0 ? ($0 + 1) % 3 : $0 % 3 }
        let e = Evaluation.score(name: "x", probabilities: probs, labels: labels, treatments: ["a", "b", "c"], resamples: 200)
        for s in [e.scores.accuracy, e.scores.macroF1, e.scores.macroAUC, e.scores.brier] { #expect(s.low <= s.value && s.value <= s.high) }
        #expect(Evaluation.score(name: "x", probabilities: probs, labels: labels, treatments: ["a", "b", "c"], resamples: 200).scores.macroF1 == e.scores.macroF1)
    }

    /// The batched gradient (two products) against the example-by-example formula.
    @Test func logisticRegressionGradientIsTheSumOverExamples() {
        var rng = ModelRandom(seed: 8)
        let (n, F, K) = (37, 5, 4)
        let x = (0..<(n * F)).map { _ in rng.uniform(-2, 2) }, y = (0..<n).map { $0 % K }
        let params = (0..<(K * F + K)).map { _ in rng.uniform(-1, 1) }
        let g = LogisticRegression.gradient(params, x: x, y: y, F: F, K: K)
        var expected = [Double](repeating: 0, count: K * F + K)
        for i in 0..<n {
            let z = (0..<K).map { k in (0..<F).reduce(Double(params[K * F + k])) { $0 + Double(params[k * F + $1]) * Double(x[i * F + $1]) } }
            let m = z.max()!, e = z.map { Foundation.exp($0 - m) }, total = e.reduce(0, +)
            for k in 0..<K {
                let d = (e[k] / total - (k == y[i] ? 1 : 0)) / Double(n)
                for f in 0..<F { expected[k * F + f] += d * Double(x[i * F + f]) }
                expected[K * F + k] += d
            }
        }
        for (a, b) in zip(g, expected) { #expect(abs(Double(a) - b) < 1e-5, "\(a) vs \(b)") }
    }

    @Test func logisticRegressionLearnsALinearRule() {
        let examples = (0..<200).map { i -> Dataset.Example in
            let x = Float(i % 20) / 10 - 1
            return .init(patientID: "p\(i)", rows: [[0, 0], [x, Float(i % 7)]], label: x > 0 ? 1 : 0)
        }
        let data = Dataset(examples: examples, features: ["x", "noise"], treatments: ["neg", "pos"])
        let lr = LogisticRegression(train: data)
        #expect(Metrics.accuracy(examples.map { Metrics.argmax(lr.probabilities($0)) }, data.labels) == 1)
        let majority = MajorityClass(train: data)
        #expect(majority.probabilities(examples[0]).reduce(0, +) == 1)
    }
}

@Suite struct ModelFileTests {
    let shape = ModelShape(features: 3, embed: 4, hidden: 5, attention: 2, treatments: 3)

    func file() -> ModelFile { ModelFile(model: GRUAttention(shape: shape, seed: 1), features: ["a", "b", "c"], treatments: ["x", "y", "z"]) }

    func tampered(_ edit: (inout Safetensors.File) -> Void) throws -> Data {
        var f = try Safetensors.decode(file().encode())
        edit(&f)
        return try Safetensors.encode(f)
    }

    func message(_ data: Data) -> String? {
        do { _ = try ModelFile.decode(data); return nil } catch { return "\(error)" }
    }

    @Test func badFilesNameTheProblem() throws {
        #expect(message(try tampered { $0.tensors["gru.weight_hh_l0"] = nil })?.contains("'gru.weight_hh_l0' is missing") == true)
        #expect(message(try tampered { $0.tensors["out.bias"] = ([4], [0, 0, 0, 0]) })?.contains("'out.bias' has shape [4], expected [3]") == true)
        #expect(message(try tampered { $0.tensors["embed.bias"]!.values[2] = .nan })?.contains("'embed.bias' holds nan") == true)
        #expect(message(try tampered { $0.tensors["embed.bias"]!.values[0] = .infinity })?.contains("holds inf") == true)
        #expect(message(try tampered { $0.metadata["architecture"] = "lstm-v2" })?.contains("'lstm-v2'") == true)
        #expect(message(try tampered { $0.tensors["extra.weight"] = ([1], [0]) })?.contains("unexpected tensors: extra.weight") == true)
        #expect(message(try tampered { $0.tensors["input_std"]!.values[1] = 0 })?.contains("input_std[1]") == true)
        #expect(message(Data("not a model".utf8)) != nil)
        #expect(message(Data()) != nil)
        var truncated = try file().encode()
        truncated.removeLast(10)
        #expect(message(truncated)?.contains("does not fit") == true)
    }

    @Test func roundTrip() throws {
        let f = file()
        let again = try ModelFile.decode(f.encode())
        #expect(again.model.parameters == f.model.parameters && again.model.shape == shape)
        #expect(again.features == ["a", "b", "c"] && again.treatments == ["x", "y", "z"])
    }
}

@Suite struct TrainingScheduleTests {
    func config() -> TrainingConfig {
        var c = TrainingConfig()
        c.embed = 8; c.hidden = 8; c.attention = 4; c.batchSize = 8; c.learningRate = 0.01; c.patience = 10
        c.classBiasCalibration = false; c.averaging = 0; c.learningRateDecay = 1
        return c
    }

    @Test func polyakUpdateIsTheExponentialAverage() {
        var avg: [Float] = [1, 2, -4]
        Polyak.update(&avg, toward: [3, 2, 0], decay: 0.75)
        #expect(avg == [1.5, 2, -3])
    }

    /// A decay of 0 stops the learning after the first epoch: three epochs give the file of one.
    @Test func learningRateDecayScalesEachEpoch() throws {
        let data = TrainingTests.tinyDataset(24, seed: 5)
        var one = config(); one.epochs = 1
        var three = config(); three.epochs = 3; three.learningRateDecay = 0
        var moving = config(); moving.epochs = 3
        func file(_ c: TrainingConfig) throws -> Data {
            try ModelFile(model: Trainer(config: c).train(train: data, validation: data).model, features: data.features, treatments: data.treatments).encode()
        }
        #expect(try file(one) == file(three))
        #expect(try file(one) != file(moving))
    }

    /// An index visit's example weighs `indexWeight` times an earlier decision point's: the
    /// gradient of a batch of both is the weighted mean of their own.
    @Test func indexVisitsWeighIndexWeightTimesMore() {
        let data = TrainingTests.tinyDataset(2, seed: 9)
        var early = data.examples[0]; early.isIndex = false
        let index = data.examples[1]
        var c = config(); c.indexWeight = 3
        let model = TreatmentNetwork(architecture: c.architecture, shape: ModelShape(features: 3, embed: 8, hidden: 8, attention: 4, treatments: 3), seed: 4)
        let t = Trainer(config: c)
        let (_, ge) = t.gradient(model, [early], weights: nil), (_, gi) = t.gradient(model, [index], weights: nil)
        let (_, both) = t.gradient(model, [early, index], weights: [1, 3])
        for j in both.indices { #expect(abs(both[j] - (ge[j] + 3 * gi[j]) / 4) < 1e-5) }
        #expect(t.exampleWeights([early, index]) == [1, 3])
    }

    /// The decay warms up from 0.1 and is capped by the configured one.
    @Test func polyakDecayWarmsUp() {
        #expect(Polyak.decay(step: 0, maximum: 0.9995) == 0.1)
        #expect(abs(Polyak.decay(step: 90, maximum: 0.9995) - 0.91) < 1e-6)
        #expect(Polyak.decay(step: 100_000, maximum: 0.9995) == 0.9995)
    }

    /// The saved model is the average, not Adam's last weights: with averaging on, the same
    /// run saves other weights, and they still fit the tiny dataset.
    @Test func averagingSavesTheAveragedWeights() {
        let data = TrainingTests.tinyDataset(40, seed: 6)
        var c = config(); c.epochs = 150; c.patience = 150
        let raw = Trainer(config: c).train(train: data, validation: data).model
        c.averaging = 0.99
        let averaged = Trainer(config: c).train(train: data, validation: data).model
        #expect(raw.parameters != averaged.parameters)
        #expect(Metrics.accuracy(Trainer.predict(averaged, data).map(Metrics.argmax), data.labels) == 1)
    }

}
