import Foundation
import Patients

/// A batch of standardized sequences, time-major and padded at the end.
public struct SequenceBatch: Sendable {
    public let B: Int
    public let T: Int
    public let F: Int
    public let lengths: [Int]
    /// `[T·B·F]`, row `t·B + b`; zero where `t ≥ lengths[b]`.
    public var x: [Float]

    /// Packs sequences (each `[T_b · F]`, visit-major) into a batch.
    public init(sequences: [[Float]], features F: Int) {
        B = sequences.count
        self.F = F
        lengths = sequences.map { $0.count / F }
        T = lengths.max() ?? 0
        var x = [Float](repeating: 0, count: T * B * F)
        for (b, s) in sequences.enumerated() {
            for t in 0..<(s.count / F) {
                for f in 0..<F { x[(t * B + b) * F + f] = s[t * F + f] }
            }
        }
        self.x = x
    }
}

/// The contract's model (`gru-attention-v1`): linear visit embedding, a GRU, additive attention
/// pooling over visits, a linear layer to treatment logits, softmax.
///
/// Parameters live in one flat buffer (`ParameterLayout`); the forward pass keeps what the
/// backward pass needs (`Pass`), and the backward pass takes any gradient of the logits, so the
/// same code trains (cross-entropy) and explains (the gradient of one probability).
public struct GRUAttention: Sendable {
    public static let architecture = "gru-attention-v1"

    public let shape: ModelShape
    public let layout: ParameterLayout
    public var parameters: [Float]
    /// Standardization, applied before the model: x = (raw − mean) / std.
    public var inputMean: [Float]
    public var inputStd: [Float]

    public init(shape: ModelShape, parameters: [Float], inputMean: [Float], inputStd: [Float]) {
        precondition(parameters.count == ParameterLayout(shape).count, "parameter count does not match the shape")
        self.shape = shape
        self.layout = ParameterLayout(shape)
        self.parameters = parameters
        self.inputMean = inputMean
        self.inputStd = inputStd
    }

    /// PyTorch's default initialisation: U(−1/√fan_in, 1/√fan_in) for Linear and GRU tensors.
    public init(shape: ModelShape, seed: UInt64) {
        let layout = ParameterLayout(shape)
        var rng = ModelRandom(seed: seed)
        var p = [Float](repeating: 0, count: layout.count)
        for t in layout.tensors {
            let fanIn: Int
            switch t.name {
            case let n where n.hasPrefix("gru."): fanIn = shape.hidden   // PyTorch: 1/√hidden_size for every GRU tensor
            case let n where n.hasSuffix(".bias"): fanIn = layout.tensors.first { $0.name == n.replacingOccurrences(of: ".bias", with: ".weight") }!.shape[1]
            default: fanIn = t.shape[1]
            }
            let bound = 1 / Float(fanIn).squareRoot()
            for i in 0..<t.count { p[t.offset + i] = rng.uniform(-bound, bound) }
        }
        self.init(shape: shape, parameters: p, inputMean: [Float](repeating: 0, count: shape.features),
                  inputStd: [Float](repeating: 1, count: shape.features))
    }

    /// Standardizes raw rows (NaN = unknown → the mean, i.e. 0), visit-major `[T·F]`.
    public func standardize(_ rows: [[Float]]) -> [Float] {
        Standardization.apply(rows, mean: inputMean, std: inputStd)
    }

    /// What the recurrent part of a forward pass (GRU, attention, output) kept for its backward pass.
    struct Head: Sendable {
        let lengths: [Int]
        let T: Int, B: Int
        var gru: GRU.Cache
        var attention: AttentionPooling.Cache
        var logits: [Float]
    }

    /// Everything a forward pass computed.
    public struct Pass: Sendable {
        public let batch: SequenceBatch
        var v: [Float]          // [T·B, E]  embedded visits
        var head: Head
        /// `[B, K]` treatment probabilities.
        public var probabilities: [Float]
        public var logits: [Float] { head.logits }

        /// Attention weights of item `b` over its visits.
        public func attentionWeights(_ b: Int) -> [Float] { (0..<batch.lengths[b]).map { head.attention.a[$0 * batch.B + b] } }
        public func probabilities(_ b: Int) -> [Float] { let K = probabilities.count / batch.B; return Array(probabilities[(b * K)..<(b * K + K)]) }
    }

    public func forward(_ batch: SequenceBatch) -> Pass {
        BLAS.ensureConfigured()
        let (T, B, F, E, H) = (batch.T, batch.B, shape.features, shape.embed, shape.hidden)
        precondition(batch.F == F, "batch has \(batch.F) features, the model \(F)")
        let L = layout
        var v = [Float](repeating: 0, count: T * B * E)
        var gi = [Float](repeating: 0, count: T * B * 3 * H)
        parameters.withUnsafeBufferPointer { pp in
            let p = pp.baseAddress!
            batch.x.withUnsafeBufferPointer { x in
                v.withUnsafeMutableBufferPointer { vp in
                    Linear.forward(x: x.baseAddress!, w: p + L.embedW, b: p + L.embedB, y: vp.baseAddress!, n: T * B, in: F, out: E)
                }
            }
            v.withUnsafeBufferPointer { vp in
                gi.withUnsafeMutableBufferPointer { gp in
                    Linear.forward(x: vp.baseAddress!, w: p + L.wih, b: p + L.bih, y: gp.baseAddress!, n: T * B, in: E, out: 3 * H)
                }
            }
        }
        let head = gi.withUnsafeBufferPointer { headForward(gi: .rows($0.baseAddress!), lengths: batch.lengths, T: T, B: B) }
        return Pass(batch: batch, v: v, head: head, probabilities: Softmax.rows(head.logits, shape.treatments))
    }

    /// The recurrent part: from the GRU's input projection `W_i v + b_i` (rows, or points on a
    /// line) through the GRU and the attention to logits.
    func headForward(gi: GRU.Input, lengths: [Int], T: Int, B: Int) -> Head {
        let (H, A, K) = (shape.hidden, shape.attention, shape.treatments)
        let L = layout
        var gruCache = GRU.Cache(T: T, B: B, H: H)
        var att = AttentionPooling.Cache(T: T, B: B, H: H, A: A)
        var logits = [Float](repeating: 0, count: B * K)
        parameters.withUnsafeBufferPointer { pp in
            let p = pp.baseAddress!
            GRU.forward(gi: gi, whh: p + L.whh, bhh: p + L.bhh, lengths: lengths, T: T, B: B, H: H, cache: &gruCache)
            gruCache.h.withUnsafeBufferPointer { hp in
                AttentionPooling.forward(hs: hp.baseAddress! + B * H, wa: p + L.attnW, ba: p + L.attnB, v: p + L.attnV,
                                         lengths: lengths, T: T, B: B, H: H, A: A, cache: &att)
            }
            att.c.withUnsafeBufferPointer { cp in
                logits.withUnsafeMutableBufferPointer { lp in
                    Linear.forward(x: cp.baseAddress!, w: p + L.outW, b: p + L.outB, y: lp.baseAddress!, n: B, in: H, out: K)
                }
            }
        }
        return Head(lengths: lengths, T: T, B: B, gru: gruCache, attention: att, logits: logits)
    }

    /// Backward through the recurrent part: dLogits `[B, K]` → dgi `[T·B, 3H]` (overwritten; with
    /// `sumOverBatch`, its sum over the batch, `[T, 3H]`), adding the output, attention and
    /// recurrent weights' gradients to `grads` when it is given.
    func headBackward(_ head: Head, dLogits: UnsafePointer<Float>, grads gr: UnsafeMutablePointer<Float>?,
                      dgi: UnsafeMutablePointer<Float>, sumOverBatch: Bool = false) {
        let (T, B, H, A, K) = (head.T, head.B, shape.hidden, shape.attention, shape.treatments)
        let L = layout
        func at(_ offset: Int) -> UnsafeMutablePointer<Float>? { gr.map { $0 + offset } }
        var dc = [Float](repeating: 0, count: B * H)
        var dhs = [Float](repeating: 0, count: T * B * H)
        parameters.withUnsafeBufferPointer { pp in
            let p = pp.baseAddress!
            // Output layer.
            head.attention.c.withUnsafeBufferPointer { cp in
                dc.withUnsafeMutableBufferPointer { dcp in
                    Linear.backward(dy: dLogits, x: cp.baseAddress!, w: p + L.outW, dw: at(L.outW), db: at(L.outB),
                                    dx: dcp.baseAddress!, n: B, in: H, out: K)
                }
            }
            // Attention pooling.
            head.gru.h.withUnsafeBufferPointer { hp in
                dc.withUnsafeBufferPointer { dcp in
                    dhs.withUnsafeMutableBufferPointer { dhp in
                        AttentionPooling.backward(dc: dcp.baseAddress!, hs: hp.baseAddress! + B * H, wa: p + L.attnW, v: p + L.attnV,
                                                  lengths: head.lengths, T: T, B: B, H: H, A: A, cache: head.attention,
                                                  dhs: dhp.baseAddress!, dwa: at(L.attnW), dba: at(L.attnB), dv: at(L.attnV))
                    }
                }
            }
            // GRU through time.
            dhs.withUnsafeBufferPointer { dhp in
                GRU.backward(dhOut: dhp.baseAddress!, whh: p + L.whh, lengths: head.lengths, T: T, B: B, H: H, cache: head.gru,
                             dgi: dgi, sumOverBatch: sumOverBatch, dwhh: at(L.whh), dbhh: at(L.bhh))
            }
        }
    }

    /// Gradients of whatever produced `dLogits` (`[B, K]`): of every parameter (flat, in
    /// `layout`) and, when asked, of the standardized input (`[T·B·F]`, time-major).
    public func backward(_ pass: Pass, dLogits: [Float], inputGradient: Bool = false) -> (parameters: [Float], input: [Float]?) {
        let batch = pass.batch
        let (T, B, F, E, H) = (batch.T, batch.B, shape.features, shape.embed, shape.hidden)
        let L = layout
        var g = [Float](repeating: 0, count: L.count)
        var dgi = [Float](repeating: 0, count: T * B * 3 * H)
        var dv = [Float](repeating: 0, count: T * B * E)
        var dx: [Float]? = inputGradient ? [Float](repeating: 0, count: T * B * F) : nil
        parameters.withUnsafeBufferPointer { pp in
        g.withUnsafeMutableBufferPointer { gp in
            let p = pp.baseAddress!, gr = gp.baseAddress!
            dLogits.withUnsafeBufferPointer { dl in
                dgi.withUnsafeMutableBufferPointer { dgp in
                    headBackward(pass.head, dLogits: dl.baseAddress!, grads: gr, dgi: dgp.baseAddress!)
                }
            }
            // Input side of the GRU, then the embedding.
            dgi.withUnsafeBufferPointer { dgp in
                pass.v.withUnsafeBufferPointer { vp in
                    dv.withUnsafeMutableBufferPointer { dvp in
                        Linear.backward(dy: dgp.baseAddress!, x: vp.baseAddress!, w: p + L.wih, dw: gr + L.wih, db: gr + L.bih,
                                        dx: dvp.baseAddress!, n: T * B, in: E, out: 3 * H)
                    }
                }
            }
            // Padded rows carry no gradient into the embedding.
            for t in 0..<T { for b in 0..<B where t >= batch.lengths[b] { for j in 0..<E { dv[(t * B + b) * E + j] = 0 } } }
            dv.withUnsafeBufferPointer { dvp in
                batch.x.withUnsafeBufferPointer { xp in
                    if dx != nil {
                        dx!.withUnsafeMutableBufferPointer { dxp in
                            Linear.backward(dy: dvp.baseAddress!, x: xp.baseAddress!, w: p + L.embedW, dw: gr + L.embedW, db: gr + L.embedB,
                                            dx: dxp.baseAddress!, n: T * B, in: F, out: E)
                        }
                    } else {
                        Linear.backward(dy: dvp.baseAddress!, x: xp.baseAddress!, w: p + L.embedW, dw: gr + L.embedW, db: gr + L.embedB,
                                        dx: nil, n: T * B, in: F, out: E)
                    }
                }
            }
        }}
        return (g, dx)
    }
}

/// Softmax and cross-entropy over rows of logits.
public enum Softmax {
    public static func rows(_ logits: [Float], _ K: Int) -> [Float] {
        var p = logits
        for r in 0..<(logits.count / K) {
            let row = r * K
            var m = -Float.infinity
            for k in 0..<K { m = max(m, p[row + k]) }
            var s: Float = 0
            for k in 0..<K { p[row + k] = Foundation.exp(p[row + k] - m); s += p[row + k] }
            for k in 0..<K { p[row + k] /= s }
        }
        return p
    }

    /// Mean cross-entropy of `labels` under `probabilities` (weights default 1), and its
    /// gradient with respect to the logits. `total` is what the weighted sum is divided by: by
    /// default these rows' weights; a part of a batch passes the whole batch's.
    public static func crossEntropy(probabilities p: [Float], labels: [Int], weights: [Float]? = nil, total: Float? = nil, K: Int) -> (loss: Float, dLogits: [Float]) {
        let B = labels.count
        let w = weights ?? [Float](repeating: 1, count: B)
        let total = max(total ?? w.reduce(0, +), 1e-12)
        var loss: Float = 0
        var d = p
        for b in 0..<B {
            loss -= w[b] * Foundation.log(max(p[b * K + labels[b]], 1e-12))
            d[b * K + labels[b]] -= 1
            for k in 0..<K { d[b * K + k] *= w[b] / total }
        }
        return (loss / total, d)
    }

    /// Mean cross-entropy against target distributions (`targets` `[B·K]`, each row summing to
    /// 1): −Σ_b w_b Σ_k q_bk log p_bk / total, and its gradient w.r.t. the logits, w_b (p − q) / total.
    /// One-hot targets give `crossEntropy`'s loss and gradient.
    public static func softCrossEntropy(probabilities p: [Float], targets q: [Float], weights: [Float]? = nil, total: Float? = nil, K: Int) -> (loss: Float, dLogits: [Float]) {
        let B = p.count / K
        let w = weights ?? [Float](repeating: 1, count: B)
        let total = max(total ?? w.reduce(0, +), 1e-12)
        var loss: Float = 0
        var d = p
        for b in 0..<B {
            for k in 0..<K {
                let i = b * K + k
                if q[i] > 0 { loss -= w[b] * q[i] * Foundation.log(max(p[i], 1e-12)) }
                d[i] = w[b] * (p[i] - q[i]) / total
            }
        }
        return (loss / total, d)
    }

    /// Gradient of probability `k` of each row with respect to the logits: p_k (e_k − p).
    public static func probabilityGradient(probabilities p: [Float], target k: Int, K: Int) -> [Float] {
        var d = [Float](repeating: 0, count: p.count)
        for r in 0..<(p.count / K) {
            let pk = p[r * K + k]
            for j in 0..<K { d[r * K + j] = pk * ((j == k ? 1 : 0) - p[r * K + j]) }
        }
        return d
    }
}

/// Reproducible random numbers for initialisation and shuffling: a `SplitMix` stream with the
/// model's own seed offset, plus the float and shuffle draws training needs.
public struct ModelRandom: Sendable {
    var source: SplitMix
    public init(seed: UInt64) { source = SplitMix(seed: seed ^ 0x5DEE_CE66_D1CE_4E5B) }
    public mutating func next() -> UInt64 { source.next() }
    public mutating func uniform(_ a: Float, _ b: Float) -> Float { a + (b - a) * Float(next() >> 40) * 0x1.0p-24 }
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, Int(next() % UInt64(i + 1))) }
    }
}
