import Foundation

/// Adam (Kingma & Ba 2015) over the flat parameter buffer, with global-norm gradient clipping.
public struct Adam: Sendable {
    public var learningRate: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    var m: [Float]
    var v: [Float]
    var step = 0

    public init(count: Int, learningRate: Float) {
        self.learningRate = learningRate
        m = [Float](repeating: 0, count: count); v = m
    }

    /// Scales `g` down so that its norm is at most `maxNorm`; returns the norm before clipping.
    @discardableResult
    public static func clip(_ g: inout [Float], maxNorm: Float) -> Float {
        var s: Double = 0
        for x in g { s += Double(x) * Double(x) }
        let norm = Float(s.squareRoot())
        if norm > maxNorm && norm > 0 { let k = maxNorm / norm; for i in g.indices { g[i] *= k } }
        return norm
    }

    public mutating func update(_ p: inout [Float], _ g: [Float]) {
        step += 1
        let c1 = 1 - Float(Foundation.pow(Double(beta1), Double(step)))
        let c2 = 1 - Float(Foundation.pow(Double(beta2), Double(step)))
        for i in p.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            p[i] -= learningRate * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }
}
