import CKernels
import Foundation

/// Additive attention pooling over a sequence's states:
///
///     u_t = tanh(W_a h_t + b_a),   e_t = w · u_t,   a = softmax_t(e) over real steps,   c = Σ_t a_t h_t
///
/// Padding gets no weight. Time-major rows (`t·B + b`), as in `GRU`.
enum AttentionPooling {
    struct Cache {
        var u: [Float]      // [T·B, A]
        var a: [Float]      // [T·B]
        var c: [Float]      // [B, H]
        /// `forward` writes every element of u and a, so they start uninitialized; c accumulates.
        init(T: Int, B: Int, H: Int, A: Int) {
            u = [Float](unsafeUninitializedCapacity: T * B * A) { _, n in n = T * B * A }
            a = [Float](unsafeUninitializedCapacity: T * B) { _, n in n = T * B }
            c = [Float](repeating: 0, count: B * H)
        }
    }

    /// hs `[T·B, H]` (states h₁…h_T).
    static func forward(hs: UnsafePointer<Float>, wa: UnsafePointer<Float>, ba: UnsafePointer<Float>, v: UnsafePointer<Float>,
                        lengths: [Int], T: Int, B: Int, H: Int, A: Int, cache k: inout Cache) {
        var e = [Float](repeating: 0, count: T * B)
        k.u.withUnsafeMutableBufferPointer { up in
            let u = up.baseAddress!
            Linear.forward(x: hs, w: wa, b: ba, y: u, n: T * B, in: H, out: A)
            rk_tanh(u, T * B * A)
            // e = U·w for every row at once.
            e.withUnsafeMutableBufferPointer { BLAS.gemm(u, v, $0.baseAddress!, m: T * B, n: 1, k: A) }
        }
        k.a.withUnsafeMutableBufferPointer { ap in
        k.c.withUnsafeMutableBufferPointer { cp in
            let a = ap.baseAddress!
            for b in 0..<B {
                let len = lengths[b]
                var m = -Float.infinity
                for t in 0..<len { m = max(m, e[t * B + b]) }
                var total: Float = 0
                for t in 0..<len { let x = Foundation.exp(e[t * B + b] - m); a[t * B + b] = x; total += x }
                for t in 0..<T { a[t * B + b] = t < len ? a[t * B + b] / total : 0 }
                let c = cp.baseAddress! + b * H
                for t in 0..<len {
                    let w = a[t * B + b], h = hs + (t * B + b) * H
                    for j in 0..<H { c[j] += w * h[j] }
                }
            }
        }}
    }

    /// dc `[B, H]` → adds to dhs `[T·B, H]`, and to dWa, dba, dv when given (an explanation
    /// wants only dhs).
    static func backward(dc: UnsafePointer<Float>, hs: UnsafePointer<Float>, wa: UnsafePointer<Float>, v: UnsafePointer<Float>,
                         lengths: [Int], T: Int, B: Int, H: Int, A: Int, cache k: Cache,
                         dhs: UnsafeMutablePointer<Float>, dwa: UnsafeMutablePointer<Float>?, dba: UnsafeMutablePointer<Float>?, dv: UnsafeMutablePointer<Float>?) {
        var dpre = [Float](repeating: 0, count: T * B * A)
        var da = [Float](repeating: 0, count: T)
        k.a.withUnsafeBufferPointer { ap in
        k.u.withUnsafeBufferPointer { up in
        dpre.withUnsafeMutableBufferPointer { dp in
            let a = ap.baseAddress!
            for b in 0..<B {
                let len = lengths[b], dcb = dc + b * H
                // dc → dh_t (through the weighted sum) and da_t.
                var mean: Float = 0
                for t in 0..<len {
                    let at = a[t * B + b], h = hs + (t * B + b) * H, dh = dhs + (t * B + b) * H
                    for j in 0..<H { dh[j] += at * dcb[j] }
                    da[t] = dot(dcb, h, H)
                    mean += at * da[t]
                }
                // Softmax: de_t = a_t (da_t − Σ a_s da_s); then through e = w·u and u = tanh(pre).
                for t in 0..<len {
                    let de = a[t * B + b] * (da[t] - mean)
                    let u = up.baseAddress! + (t * B + b) * A, pre = dp.baseAddress! + (t * B + b) * A
                    if let dv { for j in 0..<A { dv[j] += de * u[j] } }
                    for j in 0..<A { pre[j] = de * v[j] * (1 - u[j] * u[j]) }
                }
            }
            Linear.backward(dy: dp.baseAddress!, x: hs, w: wa, dw: dwa, db: dba, dx: dhs, n: T * B, in: H, out: A, accumulate: true)
        }}}
    }

    /// x · y over n floats with eight partial sums (a fixed order, so the same bits every run).
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 8 <= n {
            acc += UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Float>.self)
            j += 8
        }
        var s = acc.sum()
        while j < n { s += x[j] * y[j]; j += 1 }
        return s
    }
}
