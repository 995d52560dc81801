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

        init(T: Int, B: Int, H: Int) {
            h = [Float](repeating: 0, count: (T + 1) * B * H)
            r = [Float](repeating: 0, count: T * B * H); z = r; n = r; ghn = r
        }
    }

    /// gi `[T·B, 3H]` holds `W_i x + b_i` for every step (one big product, done by the caller).
    static func forward(gi: UnsafePointer<Float>, whh: UnsafePointer<Float>, bhh: UnsafePointer<Float>,
                        lengths: [Int], T: Int, B: Int, H: Int, cache c: inout Cache) {
        var gh = [Float](repeating: 0, count: B * 3 * H)
        c.h.withUnsafeMutableBufferPointer { hs in
        c.r.withUnsafeMutableBufferPointer { rs in
        c.z.withUnsafeMutableBufferPointer { zs in
        c.n.withUnsafeMutableBufferPointer { ns in
        c.ghn.withUnsafeMutableBufferPointer { ghns in
        gh.withUnsafeMutableBufferPointer { ghp in
            let g = ghp.baseAddress!
            for t in 0..<T {
                let hPrev = hs.baseAddress! + t * B * H, hCur = hs.baseAddress! + (t + 1) * B * H
                Linear.forward(x: hPrev, w: whh, b: bhh, y: g, n: B, in: H, out: 3 * H)
                let r = rs.baseAddress! + t * B * H, z = zs.baseAddress! + t * B * H
                let n = ns.baseAddress! + t * B * H, ghn = ghns.baseAddress! + t * B * H
                for b in 0..<B {
                    let gib = gi + (t * B + b) * 3 * H, ghb = g + b * 3 * H
                    for j in 0..<H {
                        r[b * H + j] = gib[j] + ghb[j]
                        z[b * H + j] = gib[H + j] + ghb[H + j]
                        ghn[b * H + j] = ghb[2 * H + j]
                    }
                }
                Nonlinear.sigmoidInPlace(r, B * H)
                Nonlinear.sigmoidInPlace(z, B * H)
                for b in 0..<B {
                    let gib = gi + (t * B + b) * 3 * H
                    for j in 0..<H { n[b * H + j] = gib[2 * H + j] + r[b * H + j] * ghn[b * H + j] }
                }
                Nonlinear.tanhInPlace(n, B * H)
                for b in 0..<B {
                    let valid = t < lengths[b]
                    for j in 0..<H {
                        let i = b * H + j
                        hCur[i] = valid ? (1 - z[i]) * n[i] + z[i] * hPrev[i] : hPrev[i]
                    }
                }
            }
        }}}}}}
    }

    /// dhOut `[T·B, H]`: gradient reaching each state h₁…h_T from above. Produces dgi
    /// `[T·B, 3H]` (the gradient of `W_i x + b_i`) and adds to dWhh, dbhh.
    static func backward(dhOut: UnsafePointer<Float>, whh: UnsafePointer<Float>, lengths: [Int], T: Int, B: Int, H: Int,
                         cache c: Cache, dgi: UnsafeMutablePointer<Float>, dwhh: UnsafeMutablePointer<Float>, dbhh: UnsafeMutablePointer<Float>) {
        var dh = [Float](repeating: 0, count: B * H)
        var dgh = [Float](repeating: 0, count: B * 3 * H)
        var dhPrev = [Float](repeating: 0, count: B * H)
        c.h.withUnsafeBufferPointer { hs in
        dh.withUnsafeMutableBufferPointer { dhp in
        dgh.withUnsafeMutableBufferPointer { dghp in
        dhPrev.withUnsafeMutableBufferPointer { dpp in
            let dh = dhp.baseAddress!, dg = dghp.baseAddress!, dprev = dpp.baseAddress!
            for t in stride(from: T - 1, through: 0, by: -1) {
                let hPrev = hs.baseAddress! + t * B * H
                for i in 0..<(B * H) { dh[i] += dhOut[t * B * H + i] }
                for b in 0..<B {
                    let valid = t < lengths[b]
                    let row = dgi + (t * B + b) * 3 * H
                    for j in 0..<H {
                        let i = b * H + j, ci = t * B * H + i
                        guard valid else {
                            row[j] = 0; row[H + j] = 0; row[2 * H + j] = 0
                            dg[b * 3 * H + j] = 0; dg[b * 3 * H + H + j] = 0; dg[b * 3 * H + 2 * H + j] = 0
                            dprev[i] = dh[i]
                            continue
                        }
                        let r = c.r[ci], z = c.z[ci], n = c.n[ci], ghn = c.ghn[ci], hp = hPrev[i], d = dh[i]
                        let dn = d * (1 - z)
                        let dz = d * (hp - n)
                        let dan = dn * (1 - n * n)
                        let dr = dan * ghn
                        let dpr = dr * r * (1 - r)
                        let dpz = dz * z * (1 - z)
                        row[j] = dpr; row[H + j] = dpz; row[2 * H + j] = dan
                        dg[b * 3 * H + j] = dpr; dg[b * 3 * H + H + j] = dpz; dg[b * 3 * H + 2 * H + j] = dan * r
                        dprev[i] = d * z
                    }
                }
                // Through W_hh: dW_hh += dghᵀ·h_{t−1}, db_hh += Σ dgh, dh_{t−1} += dgh·W_hh.
                Linear.backward(dy: dg, x: hPrev, w: whh, dw: dwhh, db: dbhh, dx: dprev, n: B, in: H, out: 3 * H, accumulate: true)
                dh.update(from: dprev, count: B * H)
            }
        }}}}
    }
}
