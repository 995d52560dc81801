import Foundation

/// A model as the contract saves it (docs/model-contract.md): the tensors of the architecture
/// its metadata declares (`gru-attention-v1`, contract v1; `retain-v1`, contract v2;
/// `retain-mlp-v1`, contract v3), the standardization buffers, the RETAIN temperature, and metadata naming the architecture,
/// the feature columns and the treatments (plus whatever else the trainer records:
/// configuration, cohort hash, evaluation).
public struct ModelFile: Sendable {
    /// The architecture `rounds train` writes by default.
    public static let architecture = RETAIN.architecture

    public var model: TreatmentNetwork
    public var features: [String]
    public var treatments: [String]
    /// Other metadata (all strings, as safetensors requires).
    public var extra: [String: String]
    /// The raw range of each input column in the training data (optional tensors `train_min`,
    /// `train_max`); nil in files written before they existed.
    public var trainingRange: TrainingRange?

    public init(model: TreatmentNetwork, features: [String], treatments: [String], extra: [String: String] = [:], trainingRange: TrainingRange? = nil) {
        self.model = model; self.features = features; self.treatments = treatments; self.extra = extra; self.trainingRange = trainingRange
    }

    public init(model: GRUAttention, features: [String], treatments: [String], extra: [String: String] = [:], trainingRange: TrainingRange? = nil) {
        self.init(model: .gruAttention(model), features: features, treatments: treatments, extra: extra, trainingRange: trainingRange)
    }

    /// Names of the optional tensors; readers that load the weights alone (PyTorch's
    /// `load_state_dict(strict=True)`) drop them first.
    public static let optionalTensors = ["train_min", "train_max"]

    public func encode() throws -> Data {
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        let parameters = model.parameters
        for t in model.layout.tensors {
            tensors[t.name] = (t.shape, Array(parameters[t.offset..<(t.offset + t.count)]))
        }
        let (mean, std) = model.standardization
        tensors["input_mean"] = ([model.shape.features], mean)
        tensors["input_std"] = ([model.shape.features], std)
        if model.hasTemperature { tensors["temperature"] = ([1], [model.temperature]) }
        if let r = trainingRange {
            try r.validate(columns: model.shape.features)
            tensors["train_min"] = ([model.shape.features], r.min)
            tensors["train_max"] = ([model.shape.features], r.max)
        }
        var metadata = extra
        metadata["architecture"] = model.architecture
        metadata["features"] = Self.jsonList(features)
        metadata["treatments"] = Self.jsonList(treatments)
        return try Safetensors.encode(.init(tensors: tensors, metadata: metadata))
    }

    /// Reads and checks a model file: architecture tag, every tensor present with the shape the
    /// metadata implies, nothing extra, every value finite, a positive standard deviation and
    /// temperature.
    public static func decode(_ data: Data) throws -> ModelFile {
        let file = try Safetensors.decode(data)
        guard let arch = file.metadata["architecture"] else { throw ModelFileError.invalid("metadata has no 'architecture'") }
        guard TreatmentNetwork.architectures.contains(arch) else {
            throw ModelFileError.invalid("architecture is '\(arch)', expected one of \(TreatmentNetwork.architectures.joined(separator: ", "))")
        }
        guard let features = file.metadata["features"].flatMap(parseList), !features.isEmpty else { throw ModelFileError.invalid("metadata 'features' is not a JSON list of names") }
        guard let treatments = file.metadata["treatments"].flatMap(parseList), !treatments.isEmpty else { throw ModelFileError.invalid("metadata 'treatments' is not a JSON list of names") }
        func dim(_ name: String, _ axis: Int) throws -> Int {
            guard let t = file.tensors[name] else { throw ModelFileError.invalid("tensor '\(name)' is missing") }
            guard t.shape.count > axis else { throw ModelFileError.invalid("tensor '\(name)' has shape \(t.shape)") }
            return t.shape[axis]
        }
        let retain = arch == RETAIN.architecture || arch == RETAIN.mlpArchitecture
        let embedHidden = arch == RETAIN.mlpArchitecture ? try dim("embed_in.weight", 0) : 0
        if arch == RETAIN.mlpArchitecture, embedHidden == 0 { throw ModelFileError.invalid("tensor 'embed_in.weight' has no rows") }
        let shape = retain
            ? ModelShape(features: features.count, embed: try dim("embed.weight", 0), hidden: try dim("rnn_alpha.weight_hh_l0", 1),
                         attention: 1, treatments: treatments.count)
            : ModelShape(features: features.count, embed: try dim("embed.weight", 0), hidden: try dim("gru.weight_hh_l0", 1),
                         attention: try dim("attn_proj.weight", 0), treatments: treatments.count)
        let layout = retain ? RETAIN.layout(shape, embedHidden: embedHidden) : ParameterLayout(shape)
        var parameters = [Float](repeating: 0, count: layout.count)
        let expected = layout.tensors.map { ($0.name, $0.shape) } + [("input_mean", [shape.features]), ("input_std", [shape.features])]
            + (retain ? [("temperature", [1])] : [])
        for (name, wanted) in expected {
            guard let t = file.tensors[name] else { throw ModelFileError.invalid("tensor '\(name)' is missing") }
            guard t.shape == wanted else { throw ModelFileError.invalid("tensor '\(name)' has shape \(t.shape), expected \(wanted)") }
            if let bad = t.values.firstIndex(where: { !$0.isFinite }) {
                throw ModelFileError.invalid("tensor '\(name)' holds \(t.values[bad]) at index \(bad)")
            }
        }
        var range: TrainingRange?
        switch (file.tensors["train_min"], file.tensors["train_max"]) {
        case (nil, nil): break
        case (let lo?, let hi?):
            guard lo.shape == [shape.features], hi.shape == [shape.features] else {
                throw ModelFileError.invalid("train_min/train_max have shapes \(lo.shape)/\(hi.shape), expected [\(shape.features)]")
            }
            range = TrainingRange(min: lo.values, max: hi.values)
            try range!.validate(columns: shape.features)
        default: throw ModelFileError.invalid("a model file holds both train_min and train_max or neither")
        }
        let extra = Set(file.tensors.keys).subtracting(expected.map(\.0) + optionalTensors)
        guard extra.isEmpty else { throw ModelFileError.invalid("unexpected tensors: \(extra.sorted().joined(separator: ", "))") }
        for t in layout.tensors { parameters.replaceSubrange(t.offset..<(t.offset + t.count), with: file.tensors[t.name]!.values) }
        let mean = file.tensors["input_mean"]!.values, std = file.tensors["input_std"]!.values
        if let i = std.firstIndex(where: { $0 <= 0 }) { throw ModelFileError.invalid("input_std[\(i)] is \(std[i]); it must be positive") }
        var rest = file.metadata
        for k in ["architecture", "features", "treatments"] { rest[k] = nil }
        let model: TreatmentNetwork
        if retain {
            let tau = file.tensors["temperature"]!.values[0]
            guard tau > 0 else { throw ModelFileError.invalid("temperature is \(tau); it must be positive") }
            model = .retain(RETAIN(shape: shape, embedHidden: embedHidden, parameters: parameters, inputMean: mean, inputStd: std, temperature: tau))
        } else {
            model = .gruAttention(GRUAttention(shape: shape, parameters: parameters, inputMean: mean, inputStd: std))
        }
        return ModelFile(model: model, features: features, treatments: treatments, extra: rest, trainingRange: range)
    }

    public static func load(path: String) throws -> ModelFile {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ModelFileError.unreadable(path: path, reason: error.localizedDescription)
        }
        return try decode(data)
    }

    static func jsonList(_ names: [String]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: names, options: [.withoutEscapingSlashes]), as: UTF8.self)
    }

    static func parseList(_ s: String) -> [String]? {
        (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String]
    }
}
