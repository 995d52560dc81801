import Foundation

/// Temperature scaling (Guo et al. 2017): the one τ > 0 that minimizes the negative
/// log-likelihood of softmax(z / τ) on held-out data (the validation split). It changes no
/// ranking, only how sure the probabilities are.
public enum TemperatureScaling {
    /// Mean NLL of the labels under softmax(z / τ); `logits` `[N·K]` at τ = 1.
    static func nll(_ logits: [Float], labels: [Int], K: Int, temperature tau: Double) -> Double {
        var loss = 0.0
        for (n, y) in labels.enumerated() {
            let z = (0..<K).map { Double(logits[n * K + $0]) / tau }
            let m = z.max()!
            loss += m + Foundation.log(z.reduce(0) { $0 + Foundation.exp($1 - m) }) - z[y]
        }
        return loss / Double(max(labels.count, 1))
    }

    /// The fitted τ: golden-section search on log τ over [1/20, 20] (the NLL is convex in 1/τ,
    /// so unimodal in log τ), to 1e-4 in log τ.
    public static func fit(logits: [Float], labels: [Int], K: Int) -> Float {
        guard !labels.isEmpty else { return 1 }
        var a = Foundation.log(0.05), b = Foundation.log(20.0)
        let g = (5.0.squareRoot() - 1) / 2
        var c = b - g * (b - a), d = a + g * (b - a)
        func f(_ x: Double) -> Double { nll(logits, labels: labels, K: K, temperature: Foundation.exp(x)) }
        var fc = f(c), fd = f(d)
        while b - a > 1e-4 {
            if fc < fd { b = d; d = c; fd = fc; c = b - g * (b - a); fc = f(c) } else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = f(d) }
        }
        return Float(Foundation.exp((a + b) / 2))
    }
}

/// Temperature scaling with a bias per class (Guo et al. 2017's vector scaling with a shared
/// scale): softmax(z / τ + b), (τ, b) minimizing the negative log-likelihood of the labels on
/// held-out data, with a small ridge on b. Soft training targets (the utilities) teach the
/// model how good each option is, not how often it is the best one; the biases put the class
/// frequencies back, which a single τ cannot. The NLL is convex in (1/τ, b), so Newton's
/// method with a backtracking line search finds the minimum.
///
/// The model keeps the result without a new tensor: logits / τ + b = (W c + b_out + τ b) / τ,
/// so b is folded into the output bias (`TreatmentNetwork.addingOutputBias`).
public enum PriorCalibration {
    public struct Fit: Sendable, Equatable {
        public var temperature: Float
        /// Per class, on the scale of the calibrated logits (mean zero).
        public var bias: [Float]
    }

    /// Ridge on b (per unit of mean NLL): keeps rare classes' biases finite.
    static let ridge = 1e-3

    /// Mean NLL of the labels under softmax(a·z + b), plus ridge/2 · |b|².
    static func objective(_ logits: [Float], labels: [Int], K: Int, a: Double, b: [Double]) -> Double {
        var loss = 0.0
        for (n, y) in labels.enumerated() {
            let z = (0..<K).map { a * Double(logits[n * K + $0]) + b[$0] }
            let m = z.max()!
            loss += m + Foundation.log(z.reduce(0) { $0 + Foundation.exp($1 - m) }) - z[y]
        }
        return loss / Double(max(labels.count, 1)) + 0.5 * ridge * b.reduce(0) { $0 + $1 * $1 }
    }

    public static func fit(logits: [Float], labels: [Int], K: Int) -> Fit {
        guard !labels.isEmpty else { return Fit(temperature: 1, bias: [Float](repeating: 0, count: K)) }
        let N = Double(labels.count), P = K + 1
        // Start at the best single temperature: then the fit can only do better.
        var a = 1 / Double(TemperatureScaling.fit(logits: logits, labels: labels, K: K))
        var b = [Double](repeating: 0, count: K)
        var f = objective(logits, labels: labels, K: K, a: a, b: b)
        for _ in 0..<50 {
            // Gradient and Hessian in θ = (a, b_1 … b_K); each example's logits are J θ with
            // J = [z | I], so g = Σ Jᵀ(p − e_y) and H = Σ Jᵀ (diag p − p pᵀ) J.
            var g = [Double](repeating: 0, count: P), H = [Double](repeating: 0, count: P * P)
            for (n, y) in labels.enumerated() {
                let z = (0..<K).map { Double(logits[n * K + $0]) }
                let s = (0..<K).map { a * z[$0] + b[$0] }
                let m = s.max()!
                var p = s.map { Foundation.exp($0 - m) }
                let t = p.reduce(0, +)
                for k in 0..<K { p[k] /= t }
                let zbar = (0..<K).reduce(0.0) { $0 + p[$1] * z[$1] }
                g[0] += zbar - z[y]
                for k in 0..<K { g[1 + k] += p[k] - (k == y ? 1 : 0) }
                let zz = (0..<K).reduce(0.0) { $0 + p[$1] * z[$1] * z[$1] }
                H[0] += zz - zbar * zbar
                for k in 0..<K {
                    let c = p[k] * (z[k] - zbar)
                    H[1 + k] += c; H[(1 + k) * P] += c
                    for j in 0..<K { H[(1 + k) * P + 1 + j] += (k == j ? p[k] : 0) - p[k] * p[j] }
                }
            }
            for i in 0..<P { g[i] /= N; for j in 0..<P { H[i * P + j] /= N } }
            for k in 0..<K { g[1 + k] += ridge * b[k]; H[(1 + k) * P + 1 + k] += ridge }
            guard let step = solve(H, g, P), g.reduce(0, { $0 + $1 * $1 }).squareRoot() > 1e-9 else { break }
            var t = 1.0, improved = false
            while t > 1e-6 {
                let a2 = a - t * step[0]
                let b2 = (0..<K).map { b[$0] - t * step[1 + $0] }
                if a2 > 0 {
                    let f2 = objective(logits, labels: labels, K: K, a: a2, b: b2)
                    if f2 <= f { a = a2; b = b2; improved = f - f2 > 1e-12; f = f2; break }
                }
                t /= 2
            }
            if !improved { break }
        }
        let mean = b.reduce(0, +) / Double(K)
        return Fit(temperature: Float(1 / a), bias: b.map { Float($0 - mean) })
    }

    /// Solves H x = g (H symmetric positive definite, P × P) by Gaussian elimination with
    /// partial pivoting; nil when singular.
    static func solve(_ H: [Double], _ g: [Double], _ P: Int) -> [Double]? {
        var A = H, x = g
        for c in 0..<P {
            var piv = c
            for r in (c + 1)..<P where abs(A[r * P + c]) > abs(A[piv * P + c]) { piv = r }
            guard abs(A[piv * P + c]) > 1e-14 else { return nil }
            if piv != c {
                for j in 0..<P { A.swapAt(c * P + j, piv * P + j) }
                x.swapAt(c, piv)
            }
            for r in (c + 1)..<P {
                let f = A[r * P + c] / A[c * P + c]
                guard f != 0 else { continue }
                for j in c..<P { A[r * P + j] -= f * A[c * P + j] }
                x[r] -= f * x[c]
            }
        }
        for c in stride(from: P - 1, through: 0, by: -1) {
            var s = x[c]
            for j in (c + 1)..<P { s -= A[c * P + j] * x[j] }
            x[c] = s / A[c * P + c]
        }
        return x
    }
}
