import CKernels
import Foundation

/// The `retain-v1` model (docs/model-contract.md, v2): RETAIN (Choi et al. 2016), whose
/// attention is read off exactly, and `retain-mlp-v1` (v3), the same with a hidden layer in the
/// visit embedding. Per visit t of a sequence of T:
///
///     v_t = W_emb x_t + b_emb                                  (E; retain-v1)
///     v_t = W_emb ReLU(W_in x_t + b_in) + b_emb                (E, D hidden; retain-mlp-v1)
///     g_T … g_1 = GRU_α(v_T … v_1),  h_T … h_1 = GRU_β(v_T … v_1)   (reverse time, H each)
///     e_t = w_α · g_t + b_α,  α = softmax_t(e)                 (visit-level attention)
///     β_t = tanh(W_β h_t + b_β)                                (variable-level attention, E)
///     c = Σ_t α_t (β_t ⊙ v_t),  logits = (W_out c + b_out) / τ,  p = softmax(logits)
///
/// The hidden layer lets a visit's embedding bend at thresholds (an eGFR below 30, an HbA1c
/// above target) that a linear embedding can only approximate by a straight line, while the
/// output stays linear in c; so, in both architectures, visit t contributes exactly α_t W_out (β_t ⊙ v_t) / τ to the
/// logits (`Pass.contributions`); the contributions and b_out/τ add up to the logits. The
/// recurrent networks run from the latest visit back, so a visit's weights depend on it and
/// on what came after it, as a clinician reads a history from the present back.
///
/// τ (`temperature`) is fitted on the validation split after training (1 while training).
/// Parameters live in one flat buffer (`layout`), as in `GRUAttention`; internally every
/// sequence is held in reverse time (row s of sequence b is its visit L_b − 1 − s), so the
/// GRU layer runs unchanged with its padding at the end.
public struct RETAIN: Sendable {
    public static let architecture = "retain-v1"
    /// With a hidden layer of `embedHidden` units in the embedding.
    public static let mlpArchitecture = "retain-mlp-v1"

    public let shape: ModelShape
    /// D, the width of the embedding's hidden layer; 0 for `retain-v1`'s linear embedding.
    public let embedHidden: Int
    /// `retain-mlp-v1` when the embedding has a hidden layer, else `retain-v1`.
    public var architecture: String { embedHidden > 0 ? Self.mlpArchitecture : Self.architecture }
    public let layout: ParameterLayout
    public var parameters: [Float]
    public var inputMean: [Float]
    public var inputStd: [Float]
    public var temperature: Float

    /// Named offsets into `parameters`.
    struct Offsets: Sendable {
        let inW, inB, embedW, embedB, aWih, aWhh, aBih, aBhh, alphaW, alphaB, bWih, bWhh, bBih, bBhh, betaW, betaB, outW, outB: Int
        init(_ l: ParameterLayout) {
            let mlp = l.tensor("embed_in.weight") != nil
            inW = mlp ? l.offset("embed_in.weight") : -1; inB = mlp ? l.offset("embed_in.bias") : -1
            embedW = l.offset("embed.weight"); embedB = l.offset("embed.bias")
            aWih = l.offset("rnn_alpha.weight_ih_l0"); aWhh = l.offset("rnn_alpha.weight_hh_l0")
            aBih = l.offset("rnn_alpha.bias_ih_l0"); aBhh = l.offset("rnn_alpha.bias_hh_l0")
            alphaW = l.offset("alpha.weight"); alphaB = l.offset("alpha.bias")
            bWih = l.offset("rnn_beta.weight_ih_l0"); bWhh = l.offset("rnn_beta.weight_hh_l0")
            bBih = l.offset("rnn_beta.bias_ih_l0"); bBhh = l.offset("rnn_beta.bias_hh_l0")
            betaW = l.offset("beta.weight"); betaB = l.offset("beta.bias")
            outW = l.offset("out.weight"); outB = l.offset("out.bias")
        }
    }
    let o: Offsets

    /// The contract's tensors, named as the PyTorch module's state_dict; `embed_in` only with
    /// a hidden layer (`embedHidden` D > 0).
    public static func layout(_ s: ModelShape, embedHidden D: Int = 0) -> ParameterLayout {
        let (F, E, H, K) = (s.features, s.embed, s.hidden, s.treatments)
        let embedding: [(String, [Int])] = D > 0
            ? [("embed_in.weight", [D, F]), ("embed_in.bias", [D]), ("embed.weight", [E, D]), ("embed.bias", [E])]
            : [("embed.weight", [E, F]), ("embed.bias", [E])]
        return ParameterLayout(specs: embedding + [
            ("rnn_alpha.weight_ih_l0", [3 * H, E]), ("rnn_alpha.weight_hh_l0", [3 * H, H]),
            ("rnn_alpha.bias_ih_l0", [3 * H]), ("rnn_alpha.bias_hh_l0", [3 * H]),
            ("alpha.weight", [1, H]), ("alpha.bias", [1]),
            ("rnn_beta.weight_ih_l0", [3 * H, E]), ("rnn_beta.weight_hh_l0", [3 * H, H]),
            ("rnn_beta.bias_ih_l0", [3 * H]), ("rnn_beta.bias_hh_l0", [3 * H]),
            ("beta.weight", [E, H]), ("beta.bias", [E]),
            ("out.weight", [K, E]), ("out.bias", [K]),
        ])
    }

    public init(shape: ModelShape, embedHidden: Int = 0, parameters: [Float], inputMean: [Float], inputStd: [Float], temperature: Float = 1) {
        precondition(embedHidden >= 0, "the embedding's hidden width cannot be negative")
        let layout = Self.layout(shape, embedHidden: embedHidden)
        precondition(parameters.count == layout.count, "parameter count does not match the shape")
        self.shape = shape; self.embedHidden = embedHidden; self.layout = layout; self.o = Offsets(layout)
        self.parameters = parameters; self.inputMean = inputMean; self.inputStd = inputStd; self.temperature = temperature
    }

    /// PyTorch's default initialisation: U(−1/√fan_in, 1/√fan_in); 1/√hidden for GRU tensors.
    public init(shape: ModelShape, embedHidden: Int = 0, seed: UInt64) {
        let layout = Self.layout(shape, embedHidden: embedHidden)
        var rng = ModelRandom(seed: seed)
        var p = [Float](repeating: 0, count: layout.count)
        for t in layout.tensors {
            let fanIn: Int
            if t.name.hasPrefix("rnn_") { fanIn = shape.hidden }
            else if t.name.hasSuffix(".bias") { fanIn = layout.tensor(t.name.replacingOccurrences(of: ".bias", with: ".weight"))!.shape[1] }
            else { fanIn = t.shape[1] }
            let bound = 1 / Float(fanIn).squareRoot()
            for i in 0..<t.count { p[t.offset + i] = rng.uniform(-bound, bound) }
        }
        self.init(shape: shape, embedHidden: embedHidden, parameters: p, inputMean: [Float](repeating: 0, count: shape.features),
                  inputStd: [Float](repeating: 1, count: shape.features))
    }

    /// Standardizes raw rows (NaN = unknown → the mean, i.e. 0), visit-major `[T·F]`.
    public func standardize(_ rows: [[Float]]) -> [Float] {
        Standardization.apply(rows, mean: inputMean, std: inputStd)
    }

    /// Everything a forward pass computed, in reverse time (row s·B + b is visit L_b − 1 − s).
    public struct Pass: Sendable {
        public let batch: SequenceBatch
        let xr: [Float]                 // [T·B, F] the input, reversed
        let u: [Float]                  // [T·B, D] the embedding's hidden layer, after ReLU (empty for retain-v1)
        var v: [Float]                  // [T·B, E]
        var ga: GRU.Cache, gb: GRU.Cache
        var beta: [Float]               // [T·B, E], after tanh
        var attention: RetainAttention.Cache
        var scaled: [Float]             // [B, K] logits / τ
        public var probabilities: [Float]
        let E: Int, K: Int

        public var logits: [Float] { scaled }

        /// Visit-level attention α of item `b`, in visit order.
        public func attentionWeights(_ b: Int) -> [Float] {
            let L = batch.lengths[b]
            return (0..<L).map { t in attention.alpha[(L - 1 - t) * batch.B + b] }
        }

        /// Variable-level attention β of item `b`, `[L][E]` in visit order.
        public func variableWeights(_ b: Int) -> [[Float]] {
            let L = batch.lengths[b]
            return (0..<L).map { t in let r = ((L - 1 - t) * batch.B + b) * E; return Array(beta[r..<(r + E)]) }
        }

        public func probabilities(_ b: Int) -> [Float] { Array(probabilities[(b * K)..<(b * K + K)]) }
    }

    public func forward(_ batch: SequenceBatch) -> Pass {
        BLAS.ensureConfigured()
        let (T, B, F, E, H, K) = (batch.T, batch.B, shape.features, shape.embed, shape.hidden, shape.treatments)
        precondition(batch.F == F, "batch has \(batch.F) features, the model \(F)")
        let xr = ReverseTime.rows(batch.x, lengths: batch.lengths, T: T, B: B, width: F)
        let D = embedHidden
        var u = [Float](repeating: 0, count: T * B * D)
        var v = [Float](repeating: 0, count: T * B * E)
        var gia = [Float](repeating: 0, count: T * B * 3 * H), gib = gia
        var ga = GRU.Cache(T: T, B: B, H: H), gb = GRU.Cache(T: T, B: B, H: H)
        var beta = [Float](repeating: 0, count: T * B * E)
        var att = RetainAttention.Cache(T: T, B: B, E: E)
        var logits = [Float](repeating: 0, count: B * K)
        let o = self.o, lengths = batch.lengths
        parameters.withUnsafeBufferPointer { pp in
            let p = pp.baseAddress!
            if D > 0 {
                Linear.forward(x: xr, w: p + o.inW, b: p + o.inB, y: &u, n: T * B, in: F, out: D)
                for i in u.indices where u[i] < 0 { u[i] = 0 }
                Linear.forward(x: u, w: p + o.embedW, b: p + o.embedB, y: &v, n: T * B, in: D, out: E)
            } else {
                Linear.forward(x: xr, w: p + o.embedW, b: p + o.embedB, y: &v, n: T * B, in: F, out: E)
            }
            Linear.forward(x: v, w: p + o.aWih, b: p + o.aBih, y: &gia, n: T * B, in: E, out: 3 * H)
            Linear.forward(x: v, w: p + o.bWih, b: p + o.bBih, y: &gib, n: T * B, in: E, out: 3 * H)
            gia.withUnsafeBufferPointer { GRU.forward(gi: .rows($0.baseAddress!), whh: p + o.aWhh, bhh: p + o.aBhh, lengths: lengths, T: T, B: B, H: H, cache: &ga) }
            gib.withUnsafeBufferPointer { GRU.forward(gi: .rows($0.baseAddress!), whh: p + o.bWhh, bhh: p + o.bBhh, lengths: lengths, T: T, B: B, H: H, cache: &gb) }
            gb.h.withUnsafeBufferPointer { hp in
                beta.withUnsafeMutableBufferPointer { bp in
                    Linear.forward(x: hp.baseAddress! + B * H, w: p + o.betaW, b: p + o.betaB, y: bp.baseAddress!, n: T * B, in: H, out: E)
                    rk_tanh(bp.baseAddress!, T * B * E)
                }
            }
            ga.h.withUnsafeBufferPointer { hp in
                RetainAttention.forward(g: hp.baseAddress! + B * H, wAlpha: p + o.alphaW, bAlpha: p[o.alphaB], beta: beta, v: v,
                                        lengths: lengths, T: T, B: B, H: H, E: E, cache: &att)
            }
            Linear.forward(x: att.c, w: p + o.outW, b: p + o.outB, y: &logits, n: B, in: E, out: K)
        }
        let inv = 1 / temperature
        for i in logits.indices { logits[i] *= inv }
        return Pass(batch: batch, xr: xr, u: u, v: v, ga: ga, gb: gb, beta: beta, attention: att, scaled: logits,
                    probabilities: Softmax.rows(logits, K), E: E, K: K)
    }

    /// Each visit's exact share of item `b`'s logits, `[L][K]` in visit order:
    /// α_t W_out (β_t ⊙ v_t) / τ. With `b_out / τ` they add up to the logits.
    public func contributions(_ pass: Pass, _ b: Int) -> [[Float]] {
        let (E, K, B) = (shape.embed, shape.treatments, pass.batch.B)
        let L = pass.batch.lengths[b]
        return (0..<L).map { t in
            let s = L - 1 - t, row = (s * B + b) * E, a = pass.attention.alpha[s * B + b]
            return (0..<K).map { k in
                var acc: Float = 0
                for j in 0..<E { acc += parameters[o.outW + k * E + j] * pass.beta[row + j] * pass.v[row + j] }
                return a * acc / temperature
            }
        }
    }

    /// Gradients of whatever produced `dLogits` (`[B, K]`, of the logits after the
    /// temperature): of every parameter when `parameterGradients` (flat, in `layout`; zeros
    /// otherwise), and, when asked, of the standardized input (`[T·B·F]`, time-major, in visit order).
    public func backward(_ pass: Pass, dLogits: [Float], inputGradient: Bool = false, parameterGradients: Bool = true) -> (parameters: [Float], input: [Float]?) {
        let batch = pass.batch
        let (T, B, F, E, H, K) = (batch.T, batch.B, shape.features, shape.embed, shape.hidden, shape.treatments)
        let o = self.o, lengths = batch.lengths
        var g = [Float](repeating: 0, count: parameterGradients ? layout.count : 0)
        let dl = dLogits.map { $0 / temperature }
        var dc = [Float](repeating: 0, count: B * E)
        var dga = [Float](repeating: 0, count: T * B * H), dbeta = [Float](repeating: 0, count: T * B * E), dv = dbeta
        var dhb = [Float](repeating: 0, count: T * B * H)
        var dgia = [Float](repeating: 0, count: T * B * 3 * H), dgib = dgia
        var dxr: [Float]? = inputGradient ? [Float](repeating: 0, count: T * B * F) : nil
        parameters.withUnsafeBufferPointer { pp in
        g.withUnsafeMutableBufferPointer { gp in
            let p = pp.baseAddress!
            func at(_ offset: Int) -> UnsafeMutablePointer<Float>? { parameterGradients ? gp.baseAddress! + offset : nil }
            Linear.backward(dy: dl, x: pass.attention.c, w: p + o.outW, dw: at(o.outW), db: at(o.outB), dx: &dc, n: B, in: E, out: K)
            pass.ga.h.withUnsafeBufferPointer { hp in
                RetainAttention.backward(dc: dc, g: hp.baseAddress! + B * H, wAlpha: p + o.alphaW, beta: pass.beta, v: pass.v,
                                         lengths: lengths, T: T, B: B, H: H, E: E, cache: pass.attention,
                                         dg: &dga, dbeta: &dbeta, dv: &dv, dwAlpha: at(o.alphaW), dbAlpha: at(o.alphaB))
            }
            // β = tanh(pre): dpre = dβ ⊙ (1 − β²), zero on padding (dβ is).
            for i in dbeta.indices { dbeta[i] *= 1 - pass.beta[i] * pass.beta[i] }
            pass.gb.h.withUnsafeBufferPointer { hp in
                Linear.backward(dy: dbeta, x: hp.baseAddress! + B * H, w: p + o.betaW, dw: at(o.betaW), db: at(o.betaB), dx: &dhb, n: T * B, in: H, out: E)
            }
            GRU.backward(dhOut: dga, whh: p + o.aWhh, lengths: lengths, T: T, B: B, H: H, cache: pass.ga, dgi: &dgia, dwhh: at(o.aWhh), dbhh: at(o.aBhh))
            GRU.backward(dhOut: dhb, whh: p + o.bWhh, lengths: lengths, T: T, B: B, H: H, cache: pass.gb, dgi: &dgib, dwhh: at(o.bWhh), dbhh: at(o.bBhh))
            // The GRUs' gate gradients on padded rows are zero (the kernel passes state through there).
            Linear.backward(dy: dgia, x: pass.v, w: p + o.aWih, dw: at(o.aWih), db: at(o.aBih), dx: &dv, n: T * B, in: E, out: 3 * H, accumulate: true)
            Linear.backward(dy: dgib, x: pass.v, w: p + o.bWih, dw: at(o.bWih), db: at(o.bBih), dx: &dv, n: T * B, in: E, out: 3 * H, accumulate: true)
            for t in 0..<T { for b in 0..<B where t >= lengths[b] { for j in 0..<E { dv[(t * B + b) * E + j] = 0 } } }
            // The embedding: straight from x (retain-v1), or through its hidden layer, where
            // ReLU passes the gradient only where it was positive.
            let D = embedHidden
            var dy = dv, inW = o.embedW, inB = o.embedB, width = E
            if D > 0 {
                var du = [Float](repeating: 0, count: T * B * D)
                Linear.backward(dy: dv, x: pass.u, w: p + o.embedW, dw: at(o.embedW), db: at(o.embedB), dx: &du, n: T * B, in: D, out: E)
                for i in du.indices where pass.u[i] <= 0 { du[i] = 0 }
                dy = du; inW = o.inW; inB = o.inB; width = D
            }
            if dxr != nil {
                Linear.backward(dy: dy, x: pass.xr, w: p + inW, dw: at(inW), db: at(inB), dx: &dxr!, n: T * B, in: F, out: width)
            } else {
                Linear.backward(dy: dy, x: pass.xr, w: p + inW, dw: at(inW), db: at(inB), dx: nil, n: T * B, in: F, out: width)
            }
        }}
        return (parameterGradients ? g : [Float](repeating: 0, count: layout.count),
                dxr.map { ReverseTime.rows($0, lengths: lengths, T: T, B: B, width: F) })
    }
}

/// Standardization shared by the architectures: x = (raw − mean) / std, NaN (unknown) → 0.
enum Standardization {
    static func apply(_ rows: [[Float]], mean: [Float], std: [Float]) -> [Float] {
        let F = mean.count
        var out: [Float] = []
        out.reserveCapacity(rows.count * F)
        for row in rows {
            for f in 0..<F {
                let v = row[f]
                out.append(v.isNaN ? 0 : (v - mean[f]) / std[f])
            }
        }
        return out
    }
}

/// Reversal of each sequence's real steps in a time-major padded batch: row (t, b) ↔
/// (L_b − 1 − t, b) for t < L_b; padding stays zero. Its own inverse.
enum ReverseTime {
    static func rows(_ x: [Float], lengths: [Int], T: Int, B: Int, width W: Int) -> [Float] {
        var out = [Float](repeating: 0, count: T * B * W)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                for b in 0..<B {
                    let L = lengths[b]
                    for t in 0..<L {
                        (op.baseAddress! + ((L - 1 - t) * B + b) * W).update(from: xp.baseAddress! + (t * B + b) * W, count: W)
                    }
                }
            }
        }
        return out
    }
}
