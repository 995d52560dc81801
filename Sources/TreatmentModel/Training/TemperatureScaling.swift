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
