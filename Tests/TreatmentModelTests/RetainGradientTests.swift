import Foundation
import Testing
@testable import TreatmentModel

/// RETAIN's layers and the whole model against central finite differences, and the identities
/// its readable attention rests on.
@Suite struct RetainGradientTests {
    var rng = ModelRandom(seed: 77)

    mutating func random(_ n: Int, _ scale: Float = 1) -> [Float] { (0..<n).map { _ in rng.uniform(-scale, scale) } }

    @Test mutating func retainAttentionLayer() {
        let (T, B, H, E) = (4, 3, 5, 6)
        let lengths = [4, 1, 3]
        let g = random(T * B * H), w = random(H), bA = Float(0.3), beta = random(T * B * E), v = random(T * B * E, 2), r = random(B * E)
        func run(_ g: [Float], _ w: [Float], _ beta: [Float], _ v: [Float]) -> RetainAttention.Cache {
            var c = RetainAttention.Cache(T: T, B: B, E: E)
            RetainAttention.forward(g: g, wAlpha: w, bAlpha: bA, beta: beta, v: v, lengths: lengths, T: T, B: B, H: H, E: E, cache: &c)
            return c
        }
        func loss(_ c: RetainAttention.Cache) -> Double { zip(c.c, r).reduce(0) { $0 + Double($1.0 * $1.1) } }
        let cache = run(g, w, beta, v)
        var dg = [Float](repeating: 0, count: T * B * H), dbeta = [Float](repeating: 0, count: T * B * E), dv = dbeta
        var dw = [Float](repeating: 0, count: H), db: [Float] = [0]
        RetainAttention.backward(dc: r, g: g, wAlpha: w, beta: beta, v: v, lengths: lengths, T: T, B: B, H: H, E: E, cache: cache,
                                 dg: &dg, dbeta: &dbeta, dv: &dv, dwAlpha: &dw, dbAlpha: &db)
        GradientCheckTests.check("dg", analytic: dg, at: g, indices: Array(g.indices)) { loss(run($0, w, beta, v)) }
        GradientCheckTests.check("dw", analytic: dw, at: w, indices: Array(w.indices)) { loss(run(g, $0, beta, v)) }
        GradientCheckTests.check("dbeta", analytic: dbeta, at: beta, indices: Array(beta.indices)) { loss(run(g, w, $0, v)) }
        GradientCheckTests.check("dv", analytic: dv, at: v, indices: Array(v.indices)) { loss(run(g, w, beta, $0)) }
        // A softmax's logits share one constant: the bias moves nothing.
        #expect(abs(db[0]) < 1e-5)
        // Weights over real visits sum to one; padding gets none.
        for b in 0..<B {
            let s = (0..<lengths[b]).reduce(Float(0)) { $0 + cache.alpha[$1 * B + b] }
            #expect(abs(s - 1) < 1e-6)
            for t in lengths[b]..<T { #expect(cache.alpha[t * B + b] == 0) }
        }
    }

    @Test mutating func reverseTimeIsItsOwnInverse() {
        let (T, B, W) = (4, 3, 2)
        let lengths = [4, 2, 3]
        var x = random(T * B * W)
        for t in 0..<T { for b in 0..<B where t >= lengths[b] { for j in 0..<W { x[(t * B + b) * W + j] = 0 } } }
        let r = ReverseTime.rows(x, lengths: lengths, T: T, B: B, width: W)
        #expect(ReverseTime.rows(r, lengths: lengths, T: T, B: B, width: W) == x)
        // Sequence 1 (length 2): its second visit comes first.
        #expect(Array(r[(0 * B + 1) * W..<(0 * B + 1) * W + W]) == Array(x[(1 * B + 1) * W..<(1 * B + 1) * W + W]))
    }

    /// The whole model: cross-entropy of a padded batch at a temperature, every parameter and
    /// the input; retain-v1 (a linear embedding) and retain-mlp-v1 (a hidden ReLU layer of 7).
    @Test(arguments: [0, 7]) func wholeModel(embedHidden: Int) {
        var rng = ModelRandom(seed: 77)
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in rng.uniform(-1, 1) } }
        let shape = ModelShape(features: 6, embed: 5, hidden: 4, attention: 1, treatments: 4)
        var model = RETAIN(shape: shape, embedHidden: embedHidden, seed: 9)
        model.temperature = 1.7
        let seqs = [random(5 * 6), random(2 * 6), random(4 * 6), random(1 * 6)]
        let labels = [2, 0, 3, 1]
        let batch = SequenceBatch(sequences: seqs, features: 6)
        func loss(_ m: RETAIN, _ b: SequenceBatch) -> Double {
            Double(Softmax.crossEntropy(probabilities: m.forward(b).probabilities, labels: labels, K: 4).loss)
        }
        let pass = model.forward(batch)
        let (_, dl) = Softmax.crossEntropy(probabilities: pass.probabilities, labels: labels, K: 4)
        let (g, dx) = model.backward(pass, dLogits: dl, inputGradient: true)
        GradientCheckTests.check("parameters", analytic: g, at: model.parameters, indices: Array(model.parameters.indices), eps: 5e-3) { p in
            var m = model; m.parameters = p; return loss(m, batch)
        }
        GradientCheckTests.check("input", analytic: dx!, at: batch.x, indices: Array(batch.x.indices), eps: 5e-3) { x in
            var b = batch; b.x = x; return loss(model, b)
        }
        for t in 0..<batch.T { for b in 0..<4 where t >= batch.lengths[b] { for f in 0..<6 { #expect(dx![(t * 4 + b) * 6 + f] == 0) } } }
        // Without parameter gradients the input gradient is the same.
        let dxOnly = model.backward(pass, dLogits: dl, inputGradient: true, parameterGradients: false).input!
        #expect(dxOnly == dx!)
    }

    /// Batching and padding change nothing: each sequence alone gives the same probabilities and attention.
    @Test mutating func paddingChangesNothing() {
        let shape = ModelShape(features: 3, embed: 4, hidden: 5, attention: 1, treatments: 3)
        let model = RETAIN(shape: shape, seed: 2)
        let seqs = [random(5 * 3), random(2 * 3), random(3 * 3)]
        let pass = model.forward(SequenceBatch(sequences: seqs, features: 3))
        for (b, s) in seqs.enumerated() {
            let alone = model.forward(SequenceBatch(sequences: [s], features: 3))
            #expect(zip(alone.probabilities(0), pass.probabilities(b)).allSatisfy { abs($0 - $1) < 1e-6 })
            #expect(zip(alone.attentionWeights(0), pass.attentionWeights(b)).allSatisfy { abs($0 - $1) < 1e-6 })
        }
    }

    /// The attention is read off exactly: the visits' contributions plus b_out/τ are the logits,
    /// and a visit's contribution is α_t times what its weighted embedding gives.
    @Test(arguments: [0, 5]) func contributionsAddUpToTheLogits(embedHidden: Int) {
        var rng = ModelRandom(seed: 78)
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in rng.uniform(-1, 1) } }
        let shape = ModelShape(features: 4, embed: 6, hidden: 5, attention: 1, treatments: 3)
        var model = RETAIN(shape: shape, embedHidden: embedHidden, seed: 4)
        model.temperature = 0.8
        let seqs = [random(6 * 4), random(3 * 4)]
        let net = TreatmentNetwork.retain(model)
        let pass = net.forward(SequenceBatch(sequences: seqs, features: 4))
        let bias = model.layout.tensor("out.bias")!
        for b in 0..<2 {
            let c = net.contributions(pass, b)!
            #expect(c.count == seqs[b].count / 4)
            for k in 0..<3 {
                let total = c.reduce(model.parameters[bias.offset + k] / model.temperature) { $0 + $1[k] }
                #expect(abs(total - pass.logits[b * 3 + k]) < 1e-5)
            }
        }
    }

    /// The explanation path against each point put through the model alone.
    @Test(arguments: [0, 8]) func pathGradientsAreTheWeightedSumOfInputGradients(embedHidden: Int) {
        var rng = ModelRandom(seed: 79)
        func random(_ n: Int, _ scale: Float) -> [Float] { (0..<n).map { _ in rng.uniform(-scale, scale) } }
        let shape = ModelShape(features: 5, embed: 6, hidden: 7, attention: 1, treatments: 3)
        var model = RETAIN(shape: shape, embedHidden: embedHidden, seed: 12)
        model.temperature = 1.3
        let T = 6, F = 5, K = 3
        let x = random(T * F, 2), base = random(T * F, 0.5)
        let alphas: [Float] = [0.04, 0.3, 0.5, 0.81, 1, 0], weights: [Float] = [0.1, 0.25, 0.3, 0.35, 0, 0]
        let path = model.pathGradients(from: base, to: x, alphas: alphas, weights: weights, target: 1)
        var expected = [Float](repeating: 0, count: T * F)
        for (a, w) in zip(alphas, weights) {
            let point = zip(base, x).map { $0 + a * ($1 - $0) }
            let pass = model.forward(SequenceBatch(sequences: [point], features: F))
            let seed = Softmax.probabilityGradient(probabilities: pass.probabilities, target: 1, K: K).map { $0 * w }
            let dx = model.backward(pass, dLogits: seed, inputGradient: true).input!
            for i in expected.indices { expected[i] += dx[i] }
        }
        let scale = expected.map(abs).max()!
        let worst = zip(path.weightedGradient, expected).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5 * max(scale, 1e-3), "largest difference \(worst), largest gradient \(scale)")
    }
}
