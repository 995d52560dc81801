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
        init(T: Int, B: Int, H: Int, A: Int) {
            u = [Float](repeating: 0, count: T * B * A); a = [Float](repeating: 0, count: T * B); c = [Float](repeating: 0, count: B * H)
        }
    }

    /// hs `[T·B, H]` (states h₁…h_T).
    static func forward(hs: UnsafePointer<Float>, wa: UnsafePointer<Float>, ba: UnsafePointer<Float>, v: UnsafePointer<Float>,
                        lengths: [Int], T: Int, B: Int, H: Int, A: Int, cache k: inout Cache) {
        k.u.withUnsafeMutableBufferPointer { up in
            Linear.forward(x: hs, w: wa, b: ba, y: up.baseAddress!, n: T * B, in: H, out: A)
            Nonlinear.tanhInPlace(up.baseAddress!, T * B * A)
        }
        for b in 0..<B {
            let len = lengths[b]
            var e = [Float](repeating: 0, count: len)
            for t in 0..<len {
                var s: Float = 0
                let u = (t * B + b) * A
                for j in 0..<A { s += v[j] * k.u[u + j] }
                e[t] = s
            }
            let m = e.max() ?? 0
            var total: Float = 0
            for t in 0..<len { e[t] = Foundation.exp(e[t] - m); total += e[t] }
            for t in 0..<T { k.a[t * B + b] = t < len ? e[t] / total : 0 }
            for j in 0..<H {
                var s: Float = 0
                for t in 0..<len { s += k.a[t * B + b] * hs[(t * B + b) * H + j] }
                k.c[b * H + j] = s
            }
        }
    }

    /// dc `[B, H]` → adds to dhs `[T·B, H]`, dWa, dba, dv.
    static func backward(dc: UnsafePointer<Float>, hs: UnsafePointer<Float>, wa: UnsafePointer<Float>, v: UnsafePointer<Float>,
                         lengths: [Int], T: Int, B: Int, H: Int, A: Int, cache k: Cache,
                         dhs: UnsafeMutablePointer<Float>, dwa: UnsafeMutablePointer<Float>, dba: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>) {
        var dpre = [Float](repeating: 0, count: T * B * A)
        for b in 0..<B {
            let len = lengths[b]
            // dc → dh_t (through the weighted sum) and da_t.
            var da = [Float](repeating: 0, count: len)
            var mean: Float = 0
            for t in 0..<len {
                let a = k.a[t * B + b], row = (t * B + b) * H
                var s: Float = 0
                for j in 0..<H { dhs[row + j] += a * dc[b * H + j]; s += dc[b * H + j] * hs[row + j] }
                da[t] = s
                mean += a * s
            }
            // Softmax: de_t = a_t (da_t − Σ a_s da_s); then through e = w·u and u = tanh(pre).
            for t in 0..<len {
                let de = k.a[t * B + b] * (da[t] - mean)
                let u = (t * B + b) * A
                for j in 0..<A {
                    dv[j] += de * k.u[u + j]
                    let uu = k.u[u + j]
                    dpre[u + j] = de * v[j] * (1 - uu * uu)
                }
            }
        }
        dpre.withUnsafeBufferPointer { dp in
            Linear.backward(dy: dp.baseAddress!, x: hs, w: wa, dw: dwa, db: dba, dx: dhs, n: T * B, in: H, out: A, accumulate: true)
        }
    }
}
