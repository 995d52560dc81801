import CKernels

/// One GRU layer over a batch of sequences, in PyTorch's convention (gate order r, z, n; h₀ = 0):
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr)
///     z = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///     h' = (1 − z) ⊙ n + z ⊙ h
///
/// Sequences are time-major (row `t·B + b`) and padded at the end: a step past a sequence's
/// length carries its state unchanged, so padding never changes a real output.
enum GRU {
    /// Per-step values kept for the backward pass.
    struct Cache {
        /// `[(T+1)·B, H]`: states h₀ … h_T.
        var h: [Float]
        var r: [Float], z: [Float], n: [Float]
        /// `W_hn h + b_hn`, `[T·B, H]`.
        var ghn: [Float]

        /// h₀ is zero and `forward` writes every later state; the gate values are written for
        /// the steps inside each sequence, the only ones `backward` reads, so they start uninitialized.
        init(T: Int, B: Int, H: Int) {
            h = [Float](unsafeUninitializedCapacity: (T + 1) * B * H) { p, n in
                p.baseAddress!.update(repeating: 0, count: B * H)
                n = (T + 1) * B * H
            }
            func gates() -> [Float] { [Float](unsafeUninitializedCapacity: T * B * H) { _, n in n = T * B * H } }
            r = gates(); z = gates(); n = gates(); ghn = gates()
        }
    }

    /// `W_i x + b_i` for every step and sequence (one big product, done by the caller).
    enum Input {
        /// `[T·B, 3H]`, row `t·B + b`.
        case rows(UnsafePointer<Float>)
        /// Points on a straight line in input space: row `t·B + b` is `base[t] + alphas[b] · step[t]`
        /// (`base`, `step`: `[T, 3H]`; `alphas`: `[B]`), formed in the kernel instead of stored.
        case line(base: UnsafePointer<Float>, step: UnsafePointer<Float>, alphas: UnsafePointer<Float>)
    }

    /// Each step is one product `W_hh h` for the whole batch, then the gates in one vector pass
    /// (`rk_gru_step_forward`, in CKernels: the formulas above, operation by operation).
    static func forward(gi: Input, whh: UnsafePointer<Float>, bhh: UnsafePointer<Float>,
                        lengths: [Int], T: Int, B: Int, H: Int, cache c: inout Cache) {
        var gh = [Float](repeating: 0, count: B * 3 * H)
        // W_hhᵀ laid out once, so each step's product is a plain one (OpenBLAS's small-matrix
        // kernel, no packing of W_hh at every step).
        var whhT = [Float](repeating: 0, count: 3 * H * H)
        for i in 0..<(3 * H) { for j in 0..<H { whhT[j * 3 * H + i] = whh[i * H + j] } }
        c.h.withUnsafeMutableBufferPointer { hs in
        c.r.withUnsafeMutableBufferPointer { rs in
        c.z.withUnsafeMutableBufferPointer { zs in
        c.n.withUnsafeMutableBufferPointer { ns in
        c.ghn.withUnsafeMutableBufferPointer { ghns in
        gh.withUnsafeMutableBufferPointer { ghp in
        lengths.withUnsafeBufferPointer { lens in
            let g = ghp.baseAddress!
            for t in 0..<T {
                let hPrev = hs.baseAddress! + t * B * H, hCur = hs.baseAddress! + (t + 1) * B * H, o = t * B * H
                BLAS.gemm(hPrev, whhT, g, m: B, n: 3 * H, k: H)
                let (rows, step, alphas): (UnsafePointer<Float>, UnsafePointer<Float>?, UnsafePointer<Float>?)
                switch gi {
                case .rows(let p): (rows, step, alphas) = (p + t * B * 3 * H, nil, nil)
                case .line(let base, let direction, let a): (rows, step, alphas) = (base + t * 3 * H, direction + t * 3 * H, a)
                }
                rk_gru_step_forward(B, H, t, lens.baseAddress!, rows, step, alphas, g, bhh, hPrev,
                                    rs.baseAddress! + o, zs.baseAddress! + o, ns.baseAddress! + o, ghns.baseAddress! + o, hCur)
            }
        }}}}}}}
    }

    /// dhOut `[T·B, H]`: gradient reaching each state h₁…h_T from above. Produces dgi
    /// `[T·B, 3H]` (the gradient of `W_i x + b_i`), or with `sumOverBatch` its sum over the batch
    /// `[T, 3H]` (an explanation along one path needs no more), and adds to dWhh, dbhh (when
    /// given: an explanation wants only dgi). Per step, from h' = (1 − z) ⊙ n + z ⊙ h (`rk_gru_step_backward`):
    ///
    ///     dn = dh' ⊙ (1 − z),  dz = dh' ⊙ (h − n),  d(n's pre-activation) = dn ⊙ (1 − n²),
    ///     dr = that ⊙ (W_hn h + b_hn),  then through σ: ⊙ r(1 − r) and ⊙ z(1 − z);
    ///     dh = dh' ⊙ z + dgh · W_hh  (the product done here, for the whole batch).
    static func backward(dhOut: UnsafePointer<Float>, whh: UnsafePointer<Float>, lengths: [Int], T: Int, B: Int, H: Int,
                         cache c: Cache, dgi: UnsafeMutablePointer<Float>, sumOverBatch: Bool = false,
                         dwhh: UnsafeMutablePointer<Float>?, dbhh: UnsafeMutablePointer<Float>?) {
        if sumOverBatch { dgi.update(repeating: 0, count: T * 3 * H) }
        var dh = [Float](repeating: 0, count: B * H)
        var dgh = [Float](repeating: 0, count: B * 3 * H)
        var dhPrev = [Float](repeating: 0, count: B * H)
        c.h.withUnsafeBufferPointer { hs in
        c.r.withUnsafeBufferPointer { rs in
        c.z.withUnsafeBufferPointer { zs in
        c.n.withUnsafeBufferPointer { ns in
        c.ghn.withUnsafeBufferPointer { ghns in
        lengths.withUnsafeBufferPointer { lens in
        dh.withUnsafeMutableBufferPointer { dhp in
        dgh.withUnsafeMutableBufferPointer { dghp in
        dhPrev.withUnsafeMutableBufferPointer { dpp in
            let dh = dhp.baseAddress!, dg = dghp.baseAddress!, dprev = dpp.baseAddress!
            for t in stride(from: T - 1, through: 0, by: -1) {
                let hPrev = hs.baseAddress! + t * B * H, o = t * B * H
                for i in 0..<(B * H) { dh[i] += dhOut[o + i] }
                rk_gru_step_backward(B, H, t, lens.baseAddress!, rs.baseAddress! + o, zs.baseAddress! + o, ns.baseAddress! + o,
                                     ghns.baseAddress! + o, hPrev, dh, dgi + t * (sumOverBatch ? 1 : B) * 3 * H, sumOverBatch ? 1 : 0, dg, dprev)
                // Through W_hh: dW_hh += dghᵀ·h_{t−1}, db_hh += Σ dgh, dh_{t−1} += dgh·W_hh.
                Linear.backward(dy: dg, x: hPrev, w: whh, dw: dwhh, db: dbhh, dx: dprev, n: B, in: H, out: 3 * H, accumulate: true)
                dh.update(from: dprev, count: B * H)
            }
        }}}}}}}}}
    }
}
