/// The model's sizes: F input features, E embedding, H hidden, A attention, K treatments.
public struct ModelShape: Sendable, Codable, Equatable {
    public var features: Int
    public var embed: Int
    public var hidden: Int
    public var attention: Int
    public var treatments: Int

    public init(features: Int, embed: Int = 32, hidden: Int = 64, attention: Int = 32, treatments: Int) {
        self.features = features; self.embed = embed; self.hidden = hidden; self.attention = attention; self.treatments = treatments
    }
}

/// Where each parameter tensor lives in the one flat parameter buffer (as llm.c keeps them),
/// named exactly as the PyTorch state_dict of the contract's module.
public struct ParameterLayout: Sendable, Equatable {
    public struct Tensor: Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public let tensors: [Tensor]
    public let count: Int

    /// The `gru-attention-v1` tensors.
    public init(_ s: ModelShape) {
        self.init(specs: [
            ("embed.weight", [s.embed, s.features]), ("embed.bias", [s.embed]),
            ("gru.weight_ih_l0", [3 * s.hidden, s.embed]), ("gru.weight_hh_l0", [3 * s.hidden, s.hidden]),
            ("gru.bias_ih_l0", [3 * s.hidden]), ("gru.bias_hh_l0", [3 * s.hidden]),
            ("attn_proj.weight", [s.attention, s.hidden]), ("attn_proj.bias", [s.attention]),
            ("attn_score.weight", [1, s.attention]),
            ("out.weight", [s.treatments, s.hidden]), ("out.bias", [s.treatments]),
        ])
    }

    /// Tensors laid out one after another in the order given.
    public init(specs: [(String, [Int])]) {
        var offset = 0
        var tensors: [Tensor] = []
        for (name, shape) in specs {
            tensors.append(Tensor(name: name, shape: shape, offset: offset))
            offset += shape.reduce(1, *)
        }
        self.tensors = tensors
        self.count = offset
    }

    public func tensor(_ name: String) -> Tensor? { tensors.first { $0.name == name } }

    /// The offset of a tensor that must exist (the model's own layout).
    func offset(_ name: String) -> Int { tensor(name)!.offset }

    // Offsets by role, for the kernels.
    var embedW: Int { tensors[0].offset }
    var embedB: Int { tensors[1].offset }
    var wih: Int { tensors[2].offset }
    var whh: Int { tensors[3].offset }
    var bih: Int { tensors[4].offset }
    var bhh: Int { tensors[5].offset }
    var attnW: Int { tensors[6].offset }
    var attnB: Int { tensors[7].offset }
    var attnV: Int { tensors[8].offset }
    var outW: Int { tensors[9].offset }
    var outB: Int { tensors[10].offset }
}
