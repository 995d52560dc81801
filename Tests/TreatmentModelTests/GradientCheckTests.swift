import CKernels
import Foundation
import Testing
@testable import TreatmentModel

/// Every backward pass against central finite differences of its forward pass.
@Suite struct GradientCheckTests {
    var rng = ModelRandom(seed: 42)

    mutating func random(_ n: Int, _ scale: Float = 1) -> [Float] { (0..<n).map { _ in rng.uniform(-scale, scale) } }

    /// Compares an analytic gradient with central differences of `f` at `x`, for `indices`.
    static func check(_ name: String, analytic: [Float], at x: [Float], indices: [Int], eps: Float = 1e-2, f: ([Float]) -> Double) {
        var worst: Float = 0
        for i in indices {
            var plus = x, minus = x
            plus[i] += eps; minus[i] -= eps
            let numeric = Float((f(plus) - f(minus)) / Double(2 * eps))
            let err = abs(numeric - analytic[i]) / max(1e-2, abs(numeric) + abs(analytic[i]))
            worst = max(worst, err)
            #expect(err < 2e-2, "\(name)[\(i)]: analytic \(analytic[i]), numeric \(numeric)")
        }
        #expect(worst < 2e-2)
    }

    @Test mutating func linear() {
        let (n, i, o) = (3, 5, 4)
        let x = random(n * i), w = random(o * i), b = random(o), r = random(n * o)
        func loss(_ x: [Float], _ w: [Float], _ b: [Float]) -> Double {
            var y = [Float](repeating: 0, count: n * o)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { yp in
                Linear.forward(x: xp.baseAddress!, w: wp.baseAddress!, b: bp.baseAddress!, y: yp.baseAddress!, n: n, in: i, out: o)
            }}}}
            return zip(y, r).reduce(0) { $0 + Double($1.0 * $1.1) }
        }
        var dw = [Float](repeating: 0, count: o * i), db = [Float](repeating: 0, count: o), dx = [Float](repeating: 0, count: n * i)
        r.withUnsafeBufferPointer { rp in x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
            dw.withUnsafeMutableBufferPointer { dwp in db.withUnsafeMutableBufferPointer { dbp in dx.withUnsafeMutableBufferPointer { dxp in
                Linear.backward(dy: rp.baseAddress!, x: xp.baseAddress!, w: wp.baseAddress!, dw: dwp.baseAddress!, db: dbp.baseAddress!, dx: dxp.baseAddress!, n: n, in: i, out: o)
            }}}}}}
        Self.check("dx", analytic: dx, at: x, indices: Array(0..<(n * i))) { loss($0, w, b) }
        Self.check("dW", analytic: dw, at: w, indices: Array(0..<(o * i))) { loss(x, $0, b) }
        Self.check("db", analytic: db, at: b, indices: Array(0..<o)) { loss(x, w, $0) }
    }

    @Test mutating func gruThroughTimeWithPadding() {
        let (T, B, H) = (4, 3, 5)
        let lengths = [4, 2, 3]
        let gi = random(T * B * 3 * H), whh = random(3 * H * H, 0.6), bhh = random(3 * H), r = random(T * B * H)
        func run(_ gi: [Float], _ whh: [Float], _ bhh: [Float]) -> GRU.Cache {
            var c = GRU.Cache(T: T, B: B, H: H)
            gi.withUnsafeBufferPointer { g in whh.withUnsafeBufferPointer { w in bhh.withUnsafeBufferPointer { bb in
                GRU.forward(gi: .rows(g.baseAddress!), whh: w.baseAddress!, bhh: bb.baseAddress!, lengths: lengths, T: T, B: B, H: H, cache: &c)
            }}}
            return c
        }
        // Loss: Σ over real steps of h_t · r_t (padding must not matter).
        func loss(_ c: GRU.Cache) -> Double {
            var s = 0.0
            for t in 0..<T { for b in 0..<B where t < lengths[b] { for j in 0..<H { s += Double(c.h[((t + 1) * B + b) * H + j] * r[(t * B + b) * H + j]) } } }
            return s
        }
        var dhOut = [Float](repeating: 0, count: T * B * H)
        for t in 0..<T { for b in 0..<B where t < lengths[b] { for j in 0..<H { dhOut[(t * B + b) * H + j] = r[(t * B + b) * H + j] } } }
        let cache = run(gi, whh, bhh)
        var dgi = [Float](repeating: 0, count: T * B * 3 * H), dwhh = [Float](repeating: 0, count: 3 * H * H), dbhh = [Float](repeating: 0, count: 3 * H)
        dhOut.withUnsafeBufferPointer { d in whh.withUnsafeBufferPointer { w in dgi.withUnsafeMutableBufferPointer { g in
            dwhh.withUnsafeMutableBufferPointer { dw in dbhh.withUnsafeMutableBufferPointer { db in
                GRU.backward(dhOut: d.baseAddress!, whh: w.baseAddress!, lengths: lengths, T: T, B: B, H: H, cache: cache,
                             dgi: g.baseAddress!, dwhh: dw.baseAddress!, dbhh: db.baseAddress!)
            }}}}}
        Self.check("dgi", analytic: dgi, at: gi, indices: Array(0..<gi.count)) { loss(run($0, whh, bhh)) }
        Self.check("dWhh", analytic: dwhh, at: whh, indices: Array(0..<whh.count)) { loss(run(gi, $0, bhh)) }
        Self.check("dbhh", analytic: dbhh, at: bhh, indices: Array(0..<bhh.count)) { loss(run(gi, whh, $0)) }
        // Padded steps carry their state.
        #expect(Array(cache.h[((2 + 1) * B + 1) * H..<((2 + 1) * B + 1) * H + H]) == Array(cache.h[(2 * B + 1) * H..<(2 * B + 1) * H + H]))
    }

    @Test mutating func attentionPooling() {
        let (T, B, H, A) = (5, 2, 4, 3)
        let lengths = [5, 3]
        let hs = random(T * B * H), wa = random(A * H), ba = random(A), v = random(A), r = random(B * H)
        func run(_ hs: [Float], _ wa: [Float], _ ba: [Float], _ v: [Float]) -> AttentionPooling.Cache {
            var k = AttentionPooling.Cache(T: T, B: B, H: H, A: A)
            hs.withUnsafeBufferPointer { h in wa.withUnsafeBufferPointer { w in ba.withUnsafeBufferPointer { bb in v.withUnsafeBufferPointer { vv in
                AttentionPooling.forward(hs: h.baseAddress!, wa: w.baseAddress!, ba: bb.baseAddress!, v: vv.baseAddress!, lengths: lengths, T: T, B: B, H: H, A: A, cache: &k)
            }}}}
            return k
        }
        func loss(_ k: AttentionPooling.Cache) -> Double { zip(k.c, r).reduce(0) { $0 + Double($1.0 * $1.1) } }
        let cache = run(hs, wa, ba, v)
        for b in 0..<B {
            #expect(abs((0..<T).reduce(Float(0)) { $0 + cache.a[$1 * B + b] } - 1) < 1e-6)
            for t in lengths[b]..<T { #expect(cache.a[t * B + b] == 0) }
        }
        var dhs = [Float](repeating: 0, count: hs.count), dwa = [Float](repeating: 0, count: wa.count)
        var dba = [Float](repeating: 0, count: A), dv = [Float](repeating: 0, count: A)
        r.withUnsafeBufferPointer { rp in hs.withUnsafeBufferPointer { h in wa.withUnsafeBufferPointer { w in v.withUnsafeBufferPointer { vv in
            dhs.withUnsafeMutableBufferPointer { dh in dwa.withUnsafeMutableBufferPointer { dw in dba.withUnsafeMutableBufferPointer { db in dv.withUnsafeMutableBufferPointer { dvp in
                AttentionPooling.backward(dc: rp.baseAddress!, hs: h.baseAddress!, wa: w.baseAddress!, v: vv.baseAddress!, lengths: lengths, T: T, B: B, H: H, A: A,
                                          cache: cache, dhs: dh.baseAddress!, dwa: dw.baseAddress!, dba: db.baseAddress!, dv: dvp.baseAddress!)
            }}}}}}}}
        Self.check("dhs", analytic: dhs, at: hs, indices: Array(0..<hs.count)) { loss(run($0, wa, ba, v)) }
        Self.check("dWa", analytic: dwa, at: wa, indices: Array(0..<wa.count)) { loss(run(hs, $0, ba, v)) }
        Self.check("dba", analytic: dba, at: ba, indices: Array(0..<A)) { loss(run(hs, wa, $0, v)) }
        Self.check("dv", analytic: dv, at: v, indices: Array(0..<A)) { loss(run(hs, wa, ba, $0)) }
    }

    /// The whole model: cross-entropy of a padded batch, every parameter tensor and the input.
    @Test mutating func wholeModel() {
        let shape = ModelShape(features: 6, embed: 5, hidden: 4, attention: 3, treatments: 4)
        let model = GRUAttention(shape: shape, seed: 9)
        let seqs = [random(5 * 6), random(2 * 6), random(4 * 6)]
        let labels = [2, 0, 3]
        let batch = SequenceBatch(sequences: seqs, features: 6)
        func loss(_ m: GRUAttention, _ b: SequenceBatch) -> Double {
            let p = m.forward(b).probabilities
            return Double(Softmax.crossEntropy(probabilities: p, labels: labels, K: 4).loss)
        }
        let pass = model.forward(batch)
        let (_, dl) = Softmax.crossEntropy(probabilities: pass.probabilities, labels: labels, K: 4)
        let (g, dx) = model.backward(pass, dLogits: dl, inputGradient: true)
        Self.check("parameters", analytic: g, at: model.parameters, indices: Array(0..<model.parameters.count), eps: 5e-3) { p in
            var m = model; m.parameters = p; return loss(m, batch)
        }
        Self.check("input", analytic: dx!, at: batch.x, indices: Array(0..<batch.x.count), eps: 5e-3) { x in
            var b = batch; b.x = x; return loss(model, b)
        }
        // Padding receives no gradient.
        for t in 0..<batch.T { for b in 0..<3 where t >= batch.lengths[b] { for f in 0..<6 { #expect(dx![(t * 3 + b) * 6 + f] == 0) } } }
    }

    /// The straight-line shortcut (input side done for two rows, gradients summed before the
    /// input-side products, no parameter gradients) against the plain way: every point
    /// materialized, one forward and one full backward, the input gradients weighted and summed.
    @Test(arguments: [UInt64(9), 10, 11])
    mutating func pathGradientsAreTheWeightedSumOfInputGradients(seed: UInt64) {
        let shape = ModelShape(features: 5, embed: 6, hidden: 7, attention: 4, treatments: 3)
        let model = GRUAttention(shape: shape, seed: seed)
        let T = 6, F = shape.features, K = shape.treatments
        let x = random(T * F, 2), base = random(T * F, 0.5)
        let alphas: [Float] = [0.04, 0.3, 0.5, 0.81, 1, 0], weights: [Float] = [0.1, 0.25, 0.3, 0.35, 0, 0]
        let target = Int(seed % 3)
        let path = model.pathGradients(from: base, to: x, alphas: alphas, weights: weights, target: target)

        let points = alphas.map { a in zip(base, x).map { $0 + a * ($1 - $0) } }
        let pass = model.forward(SequenceBatch(sequences: points, features: F))
        var seedGrad = Softmax.probabilityGradient(probabilities: pass.probabilities, target: target, K: K)
        for i in alphas.indices { for k in 0..<K { seedGrad[i * K + k] *= weights[i] } }
        let dx = model.backward(pass, dLogits: seedGrad, inputGradient: true).input!
        let B = alphas.count
        let expected = (0..<(T * F)).map { c in (0..<B).reduce(Float(0)) { $0 + dx[((c / F) * B + $1) * F + c % F] } }
        let scale = expected.map(abs).max()!
        let worst = zip(path.weightedGradient, expected).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5 * max(scale, 1e-3), "largest difference \(worst), largest gradient \(scale)")
        let worstP = zip(path.probabilities, pass.probabilities).map { abs($0 - $1) }.max()!
        #expect(worstP < 1e-6, "probabilities differ by \(worstP)")
    }

    @Test func vectorExpSigmoidAndTanhAgreeWithFoundation() {
        var xs: [Float] = []
        var x: Float = -30
        while x < 30 { xs.append(x); x += 0.0137 }
        var s = xs, t = xs, e = xs
        rk_sigmoid(&s, xs.count)
        rk_tanh(&t, xs.count)
        rk_exp(&e, xs.count)
        var worstS: Float = 0, worstT: Float = 0, worstE: Float = 0
        for (i, x) in xs.enumerated() {
            let es = 1 / (1 + Foundation.exp(-x)), et = Foundation.tanh(x)
            worstS = max(worstS, abs(s[i] - es) / es)
            worstT = max(worstT, abs(t[i] - et))
            worstE = max(worstE, abs(e[i] - Foundation.exp(x)) / Foundation.exp(x))
        }
        #expect(worstE < 5e-7, "exp: worst relative error \(worstE)")
        #expect(worstS < 1e-6, "sigmoid: worst relative error \(worstS)")
        // tanh as 1 − 2/(e^{2x} + 1) is accurate in absolute terms (its values lie in [−1, 1]).
        #expect(worstT < 5e-7, "tanh: worst absolute error \(worstT)")
    }

    /// The AVX-512, AVX2 and baseline builds of the kernels must give the same bits (the
    /// model's reproducibility claim rests on it); a CPU runs those it has.
    @Test func kernelVariantsGiveTheSameBits() {
        var rng = ModelRandom(seed: 11)
        let B = 5, H = 21   // 21: one full and one partial vector at both widths
        let lengths = [3, 1, 3, 2, 3]
        let gi = (0..<(B * 3 * H)).map { _ in rng.uniform(-4, 4) }, gh = (0..<(B * 3 * H)).map { _ in rng.uniform(-4, 4) }
        let bhh = (0..<(3 * H)).map { _ in rng.uniform(-1, 1) }, hPrev = (0..<(B * H)).map { _ in rng.uniform(-1, 1) }
        let dh = (0..<(B * H)).map { _ in rng.uniform(-1, 1) }
        func run(level: Int32) -> [[Float]] {
            var r = [Float](repeating: 0, count: B * H), z = r, n = r, ghn = r, h = r, dprev = r
            var dgi = [Float](repeating: 0, count: B * 3 * H), dgh = dgi
            rk_gru_step_forward(B, H, 1, lengths, gi, nil, nil, gh, bhh, hPrev, &r, &z, &n, &ghn, &h)
            // The same rows given as a line (base + α·step, formed in the kernel) give the same bits.
            let alphas: [Float] = [0.1, 0.35, 0.5, 0.9, 1.0]
            let base = Array(gi[0..<(3 * H)]), step = Array(gi[(3 * H)..<(6 * H)])
            let onLine = alphas.flatMap { a in zip(base, step).map { $0 + a * $1 } }
            var r1 = [Float](repeating: 0, count: B * H), z1 = r1, n1 = r1, ghn1 = r1, h1 = r1, r2 = r1, z2 = r1, n2 = r1, ghn2 = r1, h2 = r1
            rk_gru_step_forward(B, H, 1, lengths, onLine, nil, nil, gh, bhh, hPrev, &r1, &z1, &n1, &ghn1, &h1)
            rk_gru_step_forward(B, H, 1, lengths, base, step, alphas, gh, bhh, hPrev, &r2, &z2, &n2, &ghn2, &h2)
            #expect(h1.map(\.bitPattern) == h2.map(\.bitPattern) && r1 == r2 && z1 == z2 && n1 == n2 && ghn1 == ghn2)
            rk_gru_step_backward(B, H, 1, lengths, r, z, n, ghn, hPrev, dh, &dgi, 0, &dgh, &dprev)
            // Summed over the batch, as an explanation asks: the rows of dgi added in order.
            var summed = [Float](repeating: 0, count: 3 * H)
            rk_gru_step_backward(B, H, 1, lengths, r, z, n, ghn, hPrev, dh, &summed, 1, &dgh, &dprev)
            let bySum = (0..<(3 * H)).map { j in (0..<B).reduce(Float(0)) { $0 + dgi[$1 * 3 * H + j] } }
            #expect(summed == bySum)
            var s = gi; rk_sigmoid(&s, s.count)
            var t = gi; rk_tanh(&t, t.count)
            var e = gi; rk_exp(&e, e.count)
            return [r, z, n, ghn, h, dgi, dgh, dprev, s, t, e]
        }
        _ = rk_select(0)
        let baseline = run(level: 0)
        for level in Int32(1)...2 where rk_select(level) == level {
            let other = run(level: level)
            for (a, b) in zip(baseline, other) { #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "level \(level)") }
        }
        _ = rk_select(2)
        // A sequence past its length keeps its state and passes its gradient through.
        #expect(Array(baseline[4][H..<(2 * H)]) == Array(hPrev[H..<(2 * H)]))
        #expect(Array(baseline[7][H..<(2 * H)]) == Array(dh[H..<(2 * H)]))
    }
}
