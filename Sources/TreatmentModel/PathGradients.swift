/// One treatment's probability and its input gradient at points on the straight line from a
/// baseline to an input, x(α) = baseline + α·(input − baseline), the gradients summed with
/// weights: the quantity integrated gradients needs (Σ_i w_i ∂p_k/∂x at x(α_i)).
public struct PathGradients: Sendable {
    /// `[P, K]`: the probabilities at each point, in the order of the alphas.
    public var probabilities: [Float]
    /// `[T·F]`, visit-major like the input: Σ_i w_i ∂p_k/∂x evaluated at x(α_i).
    public var weightedGradient: [Float]

    public init(probabilities: [Float], weightedGradient: [Float]) {
        self.probabilities = probabilities
        self.weightedGradient = weightedGradient
    }
}

extension GRUAttention {
    /// Probabilities and the weighted input gradient of treatment `target` at `x(α_i)` for every
    /// alpha, all points in one batched forward and backward pass through the recurrent part.
    ///
    /// Why this is not `forward` + `backward` on the materialized points: the embedding and the
    /// GRU's input projection are affine, so along a straight line their output is
    /// `g(α) = g(baseline) + α·G·(input − baseline)` with `G = W_ih·W_embed`. The input side is
    /// computed for two rows per visit (baseline and difference) instead of one per point; each
    /// point's row is formed by the GRU's gate kernel as it goes, never stored. The backward pass
    /// sums the points' weighted gradients before the input-side products instead of after — the
    /// same sum, one product instead of P. No parameter gradients are formed.
    /// Tests hold it equal to the weighted sum of `backward(inputGradient: true)` over the points.
    public func pathGradients(from baseline: [Float], to input: [Float], alphas: [Float], weights: [Float], target: Int) -> PathGradients {
        BLAS.ensureConfigured()
        let (F, E, H, K) = (shape.features, shape.embed, shape.hidden, shape.treatments)
        precondition(input.count == baseline.count && input.count % F == 0 && !input.isEmpty, "input and baseline must be T × F")
        precondition(alphas.count == weights.count && !alphas.isEmpty, "one weight per alpha")
        precondition((0..<K).contains(target), "target \(target) is not one of the \(K) treatments")
        let T = input.count / F, P = alphas.count, G = 3 * H
        let L = layout
        let diff = zip(input, baseline).map { $0 - $1 }
        // The two ends of the line through the input side: g(baseline) with biases, G·diff without.
        var e0 = [Float](repeating: 0, count: T * E), eD = e0
        var g0 = [Float](repeating: 0, count: T * G), gD = g0
        parameters.withUnsafeBufferPointer { pp in
            let p = pp.baseAddress!
            Linear.forward(x: baseline, w: p + L.embedW, b: p + L.embedB, y: &e0, n: T, in: F, out: E)
            Linear.forward(x: diff, w: p + L.embedW, b: nil, y: &eD, n: T, in: F, out: E)
            Linear.forward(x: e0, w: p + L.wih, b: p + L.bih, y: &g0, n: T, in: E, out: G)
            Linear.forward(x: eD, w: p + L.wih, b: nil, y: &gD, n: T, in: E, out: G)
        }
        // Every point's input projection, g0 + α·gD, is formed in the GRU's kernel as it is needed.
        let head = g0.withUnsafeBufferPointer { b in gD.withUnsafeBufferPointer { s in alphas.withUnsafeBufferPointer { a in
            headForward(gi: .line(base: b.baseAddress!, step: s.baseAddress!, alphas: a.baseAddress!), lengths: [Int](repeating: T, count: P), T: T, B: P)
        }}}
        let probabilities = Softmax.rows(head.logits, K)
        var seed = Softmax.probabilityGradient(probabilities: probabilities, target: target, K: K)
        for i in 0..<P { for k in 0..<K { seed[i * K + k] *= weights[i] } }
        // Backward through the recurrent part, the points' gradients of gi summed as it goes,
        // then back through W_ih and W_embed once.
        var summed = [Float](repeating: 0, count: T * G)
        seed.withUnsafeBufferPointer { s in
            summed.withUnsafeMutableBufferPointer { headBackward(head, dLogits: s.baseAddress!, grads: nil, dgi: $0.baseAddress!, sumOverBatch: true) }
        }
        var dv = [Float](repeating: 0, count: T * E)
        var dx = [Float](repeating: 0, count: T * F)
        parameters.withUnsafeBufferPointer { pp in
            let p = pp.baseAddress!
            BLAS.gemm(summed, p + L.wih, &dv, m: T, n: E, k: G)
            BLAS.gemm(dv, p + L.embedW, &dx, m: T, n: F, k: E)
        }
        return PathGradients(probabilities: probabilities, weightedGradient: dx)
    }
}

extension RETAIN {
    /// Probabilities and the weighted input gradient of treatment `target` at `x(α_i)` for every
    /// alpha: every point materialized and put through one batched forward pass and one backward
    /// pass without parameter gradients, the points' input gradients weighted and summed.
    public func pathGradients(from baseline: [Float], to input: [Float], alphas: [Float], weights: [Float], target: Int) -> PathGradients {
        let (F, K) = (shape.features, shape.treatments)
        precondition(input.count == baseline.count && input.count % F == 0 && !input.isEmpty, "input and baseline must be T × F")
        precondition(alphas.count == weights.count && !alphas.isEmpty, "one weight per alpha")
        precondition((0..<K).contains(target), "target \(target) is not one of the \(K) treatments")
        let T = input.count / F, P = alphas.count
        let diff = zip(input, baseline).map { $0 - $1 }
        let points = alphas.map { a in (0..<input.count).map { baseline[$0] + a * diff[$0] } }
        let pass = forward(SequenceBatch(sequences: points, features: F))
        var seed = Softmax.probabilityGradient(probabilities: pass.probabilities, target: target, K: K)
        for i in 0..<P { for k in 0..<K { seed[i * K + k] *= weights[i] } }
        let dx = backward(pass, dLogits: seed, inputGradient: true, parameterGradients: false).input!
        var summed = [Float](repeating: 0, count: T * F)
        for t in 0..<T { for i in 0..<P { for f in 0..<F { summed[t * F + f] += dx[(t * P + i) * F + f] } } }
        return PathGradients(probabilities: pass.probabilities, weightedGradient: summed)
    }
}
