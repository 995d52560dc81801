/// A treatment model of either architecture the contract defines: what training, evaluation,
/// explanation, learning and the shell use, whichever architecture a model file declares.
/// Each case keeps its own forward and backward passes; this type only dispatches.
public enum TreatmentNetwork: Sendable {
    /// `gru-attention-v1` (contract v1).
    case gruAttention(GRUAttention)
    /// `retain-v1` (contract v2) and `retain-mlp-v1` (v3, a hidden layer in the embedding).
    case retain(RETAIN)

    /// The architectures `rounds train --architecture` can build, newest first.
    public static let architectures = [RETAIN.mlpArchitecture, RETAIN.architecture, GRUAttention.architecture]

    /// A freshly initialised model of `architecture`; `embedHidden` is the width of
    /// `retain-mlp-v1`'s hidden embedding layer, ignored by the other architectures (they have none).
    public init(architecture: String, shape: ModelShape, embedHidden: Int = 0, seed: UInt64) {
        switch architecture {
        case GRUAttention.architecture: self = .gruAttention(GRUAttention(shape: shape, seed: seed))
        case RETAIN.architecture: self = .retain(RETAIN(shape: shape, seed: seed))
        case RETAIN.mlpArchitecture:
            precondition(embedHidden > 0, "retain-mlp-v1 needs a hidden embedding layer")
            self = .retain(RETAIN(shape: shape, embedHidden: embedHidden, seed: seed))
        default: preconditionFailure("unknown architecture \(architecture)")
        }
    }

    public var architecture: String {
        switch self {
        case .gruAttention: return GRUAttention.architecture
        case .retain(let m): return m.architecture
        }
    }

    /// How tables name the model.
    public var name: String {
        switch self {
        case .gruAttention: return "GRU + attention"
        case .retain(let m): return m.embedHidden > 0 ? "RETAIN (MLP embedding)" : "RETAIN"
        }
    }

    /// The width of the embedding's hidden layer (`retain-mlp-v1`), 0 where there is none.
    public var embedHidden: Int {
        if case .retain(let m) = self { return m.embedHidden }
        return 0
    }

    public var shape: ModelShape {
        switch self {
        case .gruAttention(let m): return m.shape
        case .retain(let m): return m.shape
        }
    }

    public var layout: ParameterLayout {
        switch self {
        case .gruAttention(let m): return m.layout
        case .retain(let m): return m.layout
        }
    }

    public var parameters: [Float] {
        get {
            switch self {
            case .gruAttention(let m): return m.parameters
            case .retain(let m): return m.parameters
            }
        }
        set {
            switch self {
            case .gruAttention(var m): m.parameters = newValue; self = .gruAttention(m)
            case .retain(var m): m.parameters = newValue; self = .retain(m)
            }
        }
    }

    /// Standardization: x = (raw − mean) / std.
    public var standardization: (mean: [Float], std: [Float]) {
        get {
            switch self {
            case .gruAttention(let m): return (m.inputMean, m.inputStd)
            case .retain(let m): return (m.inputMean, m.inputStd)
            }
        }
        set {
            switch self {
            case .gruAttention(var m): m.inputMean = newValue.mean; m.inputStd = newValue.std; self = .gruAttention(m)
            case .retain(var m): m.inputMean = newValue.mean; m.inputStd = newValue.std; self = .retain(m)
            }
        }
    }

    /// The softmax temperature τ (probabilities = softmax(logits / τ)); `gru-attention-v1` has none (1).
    public var temperature: Float {
        get { if case .retain(let m) = self { return m.temperature }; return 1 }
        set {
            switch self {
            case .retain(var m): m.temperature = newValue; self = .retain(m)
            case .gruAttention: precondition(newValue == 1, "gru-attention-v1 has no temperature")
            }
        }
    }

    public var hasTemperature: Bool { if case .retain = self { return true }; return false }

    /// The model whose calibrated logits are its own plus `bias` (`[K]`): logits / τ + b =
    /// (W c + b_out + τ b) / τ, so b goes into the output bias (`out.bias`) at this temperature.
    public func addingOutputBias(_ bias: [Float]) -> TreatmentNetwork {
        guard case .retain(var m) = self else { preconditionFailure("only the RETAIN architectures have a calibrated output") }
        let at = m.layout.offset("out.bias")
        precondition(bias.count == m.shape.treatments, "one bias per treatment")
        for k in bias.indices { m.parameters[at + k] += m.temperature * bias[k] }
        return .retain(m)
    }

    public func standardize(_ rows: [[Float]]) -> [Float] {
        switch self {
        case .gruAttention(let m): return m.standardize(rows)
        case .retain(let m): return m.standardize(rows)
        }
    }

    /// What a forward pass computed, of either architecture.
    public enum Pass: Sendable {
        case gruAttention(GRUAttention.Pass)
        case retain(RETAIN.Pass)

        /// `[B, K]`.
        public var probabilities: [Float] {
            switch self {
            case .gruAttention(let p): return p.probabilities
            case .retain(let p): return p.probabilities
            }
        }
        /// `[B, K]`, after the temperature.
        public var logits: [Float] {
            switch self {
            case .gruAttention(let p): return p.logits
            case .retain(let p): return p.logits
            }
        }
        public func probabilities(_ b: Int) -> [Float] {
            switch self {
            case .gruAttention(let p): return p.probabilities(b)
            case .retain(let p): return p.probabilities(b)
            }
        }
        /// The attention over item `b`'s visits, in visit order (summing to 1).
        public func attentionWeights(_ b: Int) -> [Float] {
            switch self {
            case .gruAttention(let p): return p.attentionWeights(b)
            case .retain(let p): return p.attentionWeights(b)
            }
        }
    }

    public func forward(_ batch: SequenceBatch) -> Pass {
        switch self {
        case .gruAttention(let m): return .gruAttention(m.forward(batch))
        case .retain(let m): return .retain(m.forward(batch))
        }
    }

    /// Gradients of whatever produced `dLogits` (`[B, K]`): of every parameter, and of the
    /// standardized input when asked.
    public func backward(_ pass: Pass, dLogits: [Float], inputGradient: Bool = false) -> (parameters: [Float], input: [Float]?) {
        switch (self, pass) {
        case (.gruAttention(let m), .gruAttention(let p)): return m.backward(p, dLogits: dLogits, inputGradient: inputGradient)
        case (.retain(let m), .retain(let p)): return m.backward(p, dLogits: dLogits, inputGradient: inputGradient)
        default: preconditionFailure("a pass of one architecture given to the other")
        }
    }

    /// Each visit's exact share of item `b`'s logits (`[L][K]`, visit order), where the
    /// architecture has one (`retain-v1`); nil for `gru-attention-v1`, whose attention weighs
    /// states that mix every earlier visit.
    public func contributions(_ pass: Pass, _ b: Int) -> [[Float]]? {
        if case .retain(let m) = self, case .retain(let p) = pass { return m.contributions(p, b) }
        return nil
    }

    public func pathGradients(from baseline: [Float], to input: [Float], alphas: [Float], weights: [Float], target: Int) -> PathGradients {
        switch self {
        case .gruAttention(let m): return m.pathGradients(from: baseline, to: input, alphas: alphas, weights: weights, target: target)
        case .retain(let m): return m.pathGradients(from: baseline, to: input, alphas: alphas, weights: weights, target: target)
        }
    }
}
