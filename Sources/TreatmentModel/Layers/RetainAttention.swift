import Foundation

/// RETAIN's two attentions and its context (Choi et al. 2016, eq. 3–5), for rows in any time
/// order (the model gives them in reverse time):
///
///     e_t = w_α · g_t + b_α,   α = softmax_t(e) over real steps,   c = Σ_t α_t (β_t ⊙ v_t)
///
/// g: the visit-level RNN's states `[T·B, H]`; β: the variable-level attention `[T·B, E]`
/// (already through its tanh); v: the embedded visits `[T·B, E]`. Because the output is linear
/// in c, visit t's share of logit k is exactly α_t · W_out[k] · (β_t ⊙ v_t).
/// Padding gets no weight. Time-major rows (`t·B + b`), as in `GRU`.
enum RetainAttention {
    struct Cache {
        var alpha: [Float]  // [T·B], 0 on padding
        var c: [Float]      // [B, E]
        init(T: Int, B: Int, E: Int) {
            alpha = [Float](repeating: 0, count: T * B)
            c = [Float](repeating: 0, count: B * E)
        }
    }

    static func forward(g: UnsafePointer<Float>, wAlpha: UnsafePointer<Float>, bAlpha: Float, beta: UnsafePointer<Float>, v: UnsafePointer<Float>,
                        lengths: [Int], T: Int, B: Int, H: Int, E: Int, cache k: inout Cache) {
        var e = [Float](repeating: 0, count: T * B)
        e.withUnsafeMutableBufferPointer { BLAS.gemm(g, wAlpha, $0.baseAddress!, m: T * B, n: 1, k: H) }
        k.alpha.withUnsafeMutableBufferPointer { ap in
        k.c.withUnsafeMutableBufferPointer { cp in
            let a = ap.baseAddress!
            for b in 0..<B {
                let len = lengths[b]
                guard len > 0 else { continue }
                var m = -Float.infinity
                for t in 0..<len { m = max(m, e[t * B + b] + bAlpha) }
                var total: Float = 0
                for t in 0..<len { let x = Foundation.exp(e[t * B + b] + bAlpha - m); a[t * B + b] = x; total += x }
                for t in 0..<len { a[t * B + b] /= total }
                let c = cp.baseAddress! + b * E
                for t in 0..<len {
                    let w = a[t * B + b], row = (t * B + b) * E
                    for j in 0..<E { c[j] += w * beta[row + j] * v[row + j] }
                }
            }
        }}
    }

    /// dc `[B, E]` → dg `[T·B, H]`, dβ and dv `[T·B, E]` (all overwritten; zero on padding), and
    /// adds to dw_α, db_α when given.
    static func backward(dc: UnsafePointer<Float>, g: UnsafePointer<Float>, wAlpha: UnsafePointer<Float>, beta: UnsafePointer<Float>, v: UnsafePointer<Float>,
                         lengths: [Int], T: Int, B: Int, H: Int, E: Int, cache k: Cache,
                         dg: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                         dwAlpha: UnsafeMutablePointer<Float>?, dbAlpha: UnsafeMutablePointer<Float>?) {
        dg.update(repeating: 0, count: T * B * H)
        dbeta.update(repeating: 0, count: T * B * E)
        dv.update(repeating: 0, count: T * B * E)
        var de = [Float](repeating: 0, count: T * B)
        var dAlpha = [Float](repeating: 0, count: T)
        k.alpha.withUnsafeBufferPointer { ap in
            let a = ap.baseAddress!
            for b in 0..<B {
                let len = lengths[b], dcb = dc + b * E
                var mean: Float = 0
                for t in 0..<len {
                    let at = a[t * B + b], row = (t * B + b) * E
                    var s: Float = 0
                    for j in 0..<E {
                        s += dcb[j] * beta[row + j] * v[row + j]
                        dbeta[row + j] = at * dcb[j] * v[row + j]
                        dv[row + j] = at * dcb[j] * beta[row + j]
                    }
                    dAlpha[t] = s
                    mean += at * s
                }
                // Softmax: de_t = α_t (dα_t − Σ_s α_s dα_s).
                for t in 0..<len { de[t * B + b] = a[t * B + b] * (dAlpha[t] - mean) }
            }
        }
        // e = G·w_α + b_α: dG = de ⊗ w_α, dw_α += Gᵀ·de, db_α += Σ de.
        de.withUnsafeBufferPointer { dep in
            BLAS.gemm(dep.baseAddress!, wAlpha, dg, m: T * B, n: H, k: 1)
            if let dwAlpha { BLAS.gemm(g, dep.baseAddress!, dwAlpha, m: H, n: 1, k: T * B, transA: true, beta: 1) }
        }
        if let dbAlpha { dbAlpha[0] += de.reduce(0, +) }
    }
}
