import Foundation

/// The path-integration rules of integrated gradients, named and computed as Captum does
/// (`captum/attr/_utils/approximation_methods.py`), so that attributions agree with Captum's.
public enum IntegrationRule: String, Sendable, Codable, CaseIterable {
    case riemannLeft = "riemann_left"
    case riemannRight = "riemann_right"
    case riemannMiddle = "riemann_middle"
    case riemannTrapezoid = "riemann_trapezoid"
    case gaussLegendre = "gausslegendre"

    /// The points along the path (alphas, from baseline 0 to input 1) and their weights.
    ///
    /// Riemann alphas are float32 linspaces, as `torch.linspace(...).tolist()`; each step
    /// weighs 1/n, the trapezoid's end steps half that (so its weights sum to (n−1)/n: Captum's
    /// rule, kept for parity). Gauss–Legendre uses the n-point nodes and weights on [−1, 1]
    /// mapped to [0, 1].
    public func points(_ n: Int) -> (alphas: [Double], weights: [Double]) {
        precondition(n > (self == .gaussLegendre ? 0 : 1), "\(rawValue) needs more steps")
        func linspace(_ a: Double, _ b: Double) -> [Double] {
            // torch.linspace in float32: start + i * step, with step computed in float32.
            let start = Float(a), end = Float(b)
            let step = (end - start) / Float(n - 1)
            return (0..<n).map { i in Double(i < n / 2 ? start + step * Float(i) : end - step * Float(n - 1 - i)) }
        }
        let equal = [Double](repeating: 1 / Double(n), count: n)
        switch self {
        case .riemannLeft: return (linspace(0, 1 - 1 / Double(n)), equal)
        case .riemannRight: return (linspace(1 / Double(n), 1), equal)
        case .riemannMiddle: return (linspace(1 / (2 * Double(n)), 1 - 1 / (2 * Double(n))), equal)
        case .riemannTrapezoid:
            var w = equal
            w[0] /= 2; w[n - 1] /= 2
            return (linspace(0, 1), w)
        case .gaussLegendre:
            let (x, w) = GaussLegendre.nodes(n)
            return (x.map { 0.5 * (1 + $0) }, w.map { 0.5 * $0 })
        }
    }
}

/// Gauss–Legendre quadrature on [−1, 1]: the roots of the Legendre polynomial P_n by Newton's
/// method from the usual cosine guesses, weights 2 / ((1 − x²) P_n'(x)²). Ascending order, as
/// numpy's `leggauss`.
enum GaussLegendre {
    /// Nodes by n, computed once each: about 50 µs for n = 50, a few percent of an explanation.
    nonisolated(unsafe) private static var known: [Int: (x: [Double], w: [Double])] = [:]
    private static let lock = NSLock()

    static func nodes(_ n: Int) -> (x: [Double], w: [Double]) {
        if let r = lock.withLock({ known[n] }) { return r }
        let r = compute(n)
        lock.withLock { known[n] = r }
        return r
    }

    private static func compute(_ n: Int) -> (x: [Double], w: [Double]) {
        var x = [Double](repeating: 0, count: n), w = [Double](repeating: 0, count: n)
        for i in 0..<((n + 1) / 2) {
            var z = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var dp = 0.0
            for _ in 0..<100 {
                var p0 = 1.0, p1 = z
                if n == 1 { p1 = z; p0 = 1 } else {
                    for k in 2...n { let p2 = ((2 * Double(k) - 1) * z * p1 - (Double(k) - 1) * p0) / Double(k); p0 = p1; p1 = p2 }
                }
                let pn = n == 0 ? 1 : p1, pn1 = n == 1 ? 1 : p0
                dp = Double(n) * (z * pn - pn1) / (z * z - 1)
                let dz = pn / dp
                z -= dz
                if abs(dz) <= 1e-15 { break }   // |z| ≤ 1: converged to the last few bits
            }
            // Recompute the derivative at the converged root for the weight.
            var p0 = 1.0, p1 = z
            if n > 1 { for k in 2...n { let p2 = ((2 * Double(k) - 1) * z * p1 - (Double(k) - 1) * p0) / Double(k); p0 = p1; p1 = p2 } }
            dp = n == 1 ? 1 : Double(n) * (z * p1 - p0) / (z * z - 1)
            x[i] = -z; x[n - 1 - i] = z
            w[i] = 2 / ((1 - z * z) * dp * dp); w[n - 1 - i] = w[i]
        }
        return (x, w)
    }
}
