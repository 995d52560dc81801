import Foundation
import Testing
@testable import TreatmentModel

/// The utility-aware targets, the soft cross-entropy, temperature scaling and the retain-v1 file.
@Suite struct CalibrationAndTargetTests {
    @Test func softCrossEntropyGradientMatchesFiniteDifferences() {
        let K = 4
        let z: [Float] = [0.3, -1.2, 2.0, 0.1, 1.1, 0.0, -0.4, 0.7]
        let q: [Float] = [0.1, 0.2, 0.6, 0.1, 0, 0, 1, 0]
        let w: [Float] = [1, 2.5]
        func loss(_ z: [Float]) -> Double { Double(Softmax.softCrossEntropy(probabilities: Softmax.rows(z, K), targets: q, weights: w, K: K).loss) }
        let d = Softmax.softCrossEntropy(probabilities: Softmax.rows(z, K), targets: q, weights: w, K: K).dLogits
        GradientCheckTests.check("dLogits", analytic: d, at: z, indices: Array(z.indices), eps: 1e-3, f: loss)
        // One-hot targets are the plain cross-entropy.
        let hard = Softmax.crossEntropy(probabilities: Softmax.rows(z, K), labels: [2, 2], weights: w, K: K)
        let soft = Softmax.softCrossEntropy(probabilities: Softmax.rows(z, K), targets: [0, 0, 1, 0, 0, 0, 1, 0], weights: w, K: K)
        #expect(abs(hard.loss - soft.loss) < 1e-6 && zip(hard.dLogits, soft.dLogits).allSatisfy { abs($0 - $1) < 1e-7 })
    }

    @Test func utilityTargetsAreTheSoftmaxOfTheUtilities() {
        var c = TrainingConfig(); c.utilityTemperature = 0.5
        let e = Dataset.Example(patientID: "p", rows: [[0]], label: 1, utilities: [0, 1, 0.5])
        let q = Trainer(config: c).target(e, K: 3)
        let z = [0.0, 2.0, 1.0].map(Foundation.exp), s = z.reduce(0, +)
        #expect(zip(q, z).allSatisfy { abs(Double($0) - $1 / s) < 1e-6 })
        c.utilityTemperature = 0
        #expect(Trainer(config: c).target(e, K: 3) == [0, 1, 0])
        // Without utilities: the label alone.
        c.utilityTemperature = 0.5
        #expect(Trainer(config: c).target(Dataset.Example(patientID: "p", rows: [[0]], label: 2), K: 3) == [0, 0, 1])
    }

    /// Labels drawn from softmax(z / 2.5): the fitted temperature recovers 2.5 (to sampling
    /// error), and it is the NLL's minimum.
    @Test func temperatureScalingRecoversTheTemperatureThatMadeTheLabels() {
        var rng = ModelRandom(seed: 8)
        let K = 5, N = 6000, truth: Float = 2.5
        var logits: [Float] = [], labels: [Int] = []
        for _ in 0..<N {
            let z = (0..<K).map { _ in rng.uniform(-6, 6) }
            let p = Softmax.rows(z.map { $0 / truth }, K)
            var u = rng.uniform(0, 1), y = K - 1
            for k in 0..<K { u -= p[k]; if u <= 0 { y = k; break } }
            logits += z; labels.append(y)
        }
        let tau = TemperatureScaling.fit(logits: logits, labels: labels, K: K)
        #expect(abs(tau - truth) < 0.15, "fitted \(tau)")
        let at = TemperatureScaling.nll(logits, labels: labels, K: K, temperature: Double(tau))
        for other in [tau * 0.9, tau * 1.1] { #expect(at < TemperatureScaling.nll(logits, labels: labels, K: K, temperature: Double(other))) }
    }

    @Test func retainFilesRoundTripWithTheirTemperature() throws {
        var m = RETAIN(shape: ModelShape(features: 3, embed: 4, hidden: 2, attention: 1, treatments: 3), seed: 1)
        m.temperature = 1.37
        let file = ModelFile(model: .retain(m), features: ["a", "b", "c"], treatments: ["x", "y", "z"])
        let bytes = try file.encode()
        let again = try ModelFile.decode(bytes)
        #expect(again.model.architecture == "retain-v1" && again.model.temperature == 1.37 && again.model.parameters == m.parameters)
        #expect(try again.encode() == bytes)
        // A temperature that is not positive is refused, by name.
        var st = try Safetensors.decode(bytes)
        st.tensors["temperature"] = ([1], [0])
        #expect(throws: ModelFileError.invalid("temperature is 0.0; it must be positive")) { try ModelFile.decode(try Safetensors.encode(st)) }
        st.tensors["temperature"] = nil
        #expect(throws: ModelFileError.invalid("tensor 'temperature' is missing")) { try ModelFile.decode(try Safetensors.encode(st)) }
    }

    /// retain-mlp-v1 files carry their hidden embedding layer and read back as written; a file
    /// whose hidden layer does not match its embedding is refused by name.
    @Test func retainMLPFilesRoundTrip() throws {
        var m = RETAIN(shape: ModelShape(features: 3, embed: 4, hidden: 2, attention: 1, treatments: 3), embedHidden: 6, seed: 1)
        m.temperature = 0.81
        let file = ModelFile(model: .retain(m), features: ["a", "b", "c"], treatments: ["x", "y", "z"])
        let bytes = try file.encode()
        let again = try ModelFile.decode(bytes)
        #expect(again.model.architecture == "retain-mlp-v1" && again.model.embedHidden == 6 && again.model.parameters == m.parameters)
        #expect(try again.encode() == bytes)
        var st = try Safetensors.decode(bytes)
        st.tensors["embed.weight"] = ([4, 5], [Float](repeating: 0, count: 20))
        #expect(throws: ModelFileError.invalid("tensor 'embed.weight' has shape [4, 5], expected [4, 6]")) { try ModelFile.decode(try Safetensors.encode(st)) }
        // A retain-v1 file relabelled as retain-mlp-v1 lacks the hidden layer.
        var v1 = try Safetensors.decode(try ModelFile(model: .retain(RETAIN(shape: m.shape, seed: 2)), features: ["a", "b", "c"], treatments: ["x", "y", "z"]).encode())
        v1.metadata["architecture"] = "retain-mlp-v1"
        #expect(throws: ModelFileError.invalid("tensor 'embed_in.weight' is missing")) { try ModelFile.decode(try Safetensors.encode(v1)) }
    }

    /// A configuration recorded before there was a choice of architecture reads as gru-attention-v1.
    @Test func olderTrainingConfigurationsDecode() throws {
        let old = #"{"attention":32,"batchSize":32,"classBalance":0,"clipNorm":5,"embed":32,"epochs":60,"hidden":64,"learningRate":0.001,"patience":8,"seed":7,"threads":1,"weightDecay":0}"#
        let c = try JSONDecoder().decode(TrainingConfig.self, from: Data(old.utf8))
        #expect(c.architecture == "gru-attention-v1" && c.seed == 7 && c.utilityTemperature == 0 && !c.classBiasCalibration)
    }

    /// Labels drawn from softmax(z / 1.8 + b): the fit recovers τ and b (to sampling error and
    /// the ridge), and it is the objective's minimum in every direction.
    @Test func priorCalibrationRecoversTemperatureAndClassBiases() {
        var rng = ModelRandom(seed: 11)
        let K = 4, N = 20000, truth: Float = 1.8, bias: [Float] = [0.9, -0.6, 0.2, -0.5]
        var logits: [Float] = [], labels: [Int] = []
        for _ in 0..<N {
            let z = (0..<K).map { _ in rng.uniform(-4, 4) }
            let p = Softmax.rows((0..<K).map { z[$0] / truth + bias[$0] }, K)
            var u = rng.uniform(0, 1), y = K - 1
            for k in 0..<K { u -= p[k]; if u <= 0 { y = k; break } }
            logits += z; labels.append(y)
        }
        let fit = PriorCalibration.fit(logits: logits, labels: labels, K: K)
        #expect(abs(fit.temperature - truth) < 0.1, "fitted τ \(fit.temperature)")
        for k in 0..<K { #expect(abs(fit.bias[k] - bias[k]) < 0.08, "bias \(k): \(fit.bias[k])") }
        let a = 1 / Double(fit.temperature), b = fit.bias.map(Double.init)
        let at = PriorCalibration.objective(logits, labels: labels, K: K, a: a, b: b)
        for i in 0...K {
            for h in [-0.02, 0.02] {
                var a2 = a, b2 = b
                if i == 0 { a2 += h } else { b2[i - 1] += h }
                #expect(at < PriorCalibration.objective(logits, labels: labels, K: K, a: a2, b: b2))
            }
        }
        // Never worse than the temperature alone.
        let tau = TemperatureScaling.fit(logits: logits, labels: labels, K: K)
        #expect(at <= PriorCalibration.objective(logits, labels: labels, K: K, a: 1 / Double(tau), b: [Double](repeating: 0, count: K)))
    }

    /// Folded into the output bias, the class biases give exactly softmax(logits / τ + b).
    @Test func classBiasesFoldIntoTheOutputBias() {
        var m = RETAIN(shape: ModelShape(features: 3, embed: 4, hidden: 3, attention: 1, treatments: 3), seed: 5)
        m.temperature = 0.7
        let net = TreatmentNetwork.retain(m)
        let batch = SequenceBatch(sequences: [[0.5, -1, 2, 0.1, 0.3, -0.2]], features: 3)
        let before = net.forward(batch).logits
        let b: [Float] = [0.4, -0.1, -0.3]
        let after = net.addingOutputBias(b).forward(batch)
        for k in 0..<3 { #expect(abs(after.logits[k] - (before[k] + b[k])) < 1e-5) }
        let contributions = net.addingOutputBias(b).contributions(after, 0)!
        // The visits' shares do not move; the bias is the output bias's.
        #expect(zip(contributions.flatMap { $0 }, net.contributions(net.forward(batch), 0)!.flatMap { $0 }).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}
