import Foundation

/// A model as the contract saves it: the `gru-attention-v1` tensors and buffers, and metadata
/// naming the architecture, the feature columns and the treatments (plus whatever else the
/// trainer records: configuration, cohort hash, evaluation).
public struct ModelFile: Sendable {
    public static let architecture = "gru-attention-v1"

    public var model: GRUAttention
    public var features: [String]
    public var treatments: [String]
    /// Other metadata (all strings, as safetensors requires).
    public var extra: [String: String]
    /// The raw range of each input column in the training data (optional tensors `train_min`,
    /// `train_max`); nil in files written before they existed.
    public var trainingRange: TrainingRange?

    public init(model: GRUAttention, features: [String], treatments: [String], extra: [String: String] = [:], trainingRange: TrainingRange? = nil) {
        self.model = model; self.features = features; self.treatments = treatments; self.extra = extra; self.trainingRange = trainingRange
    }

    /// Names of the optional tensors; readers that load the weights alone (PyTorch's
    /// `load_state_dict(strict=True)`) drop them first.
    public static let optionalTensors = ["train_min", "train_max"]

    public func encode() throws -> Data {
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for t in model.layout.tensors {
            tensors[t.name] = (t.shape, Array(model.parameters[t.offset..<(t.offset + t.count)]))
        }
        tensors["input_mean"] = ([model.shape.features], model.inputMean)
        tensors["input_std"] = ([model.shape.features], model.inputStd)
        if let r = trainingRange {
            try r.validate(columns: model.shape.features)
            tensors["train_min"] = ([model.shape.features], r.min)
            tensors["train_max"] = ([model.shape.features], r.max)
        }
        var metadata = extra
        metadata["architecture"] = Self.architecture
        metadata["features"] = Self.jsonList(features)
        metadata["treatments"] = Self.jsonList(treatments)
        return try Safetensors.encode(.init(tensors: tensors, metadata: metadata))
    }

    /// Reads and checks a model file: architecture tag, every tensor present with the shape the
    /// metadata implies, nothing extra, every value finite, a positive standard deviation.
    public static func decode(_ data: Data) throws -> ModelFile {
        let file = try Safetensors.decode(data)
        guard let arch = file.metadata["architecture"] else { throw ModelFileError.invalid("metadata has no 'architecture'") }
        guard arch == architecture else { throw ModelFileError.invalid("architecture is '\(arch)', expected '\(architecture)'") }
        guard let features = file.metadata["features"].flatMap(parseList), !features.isEmpty else { throw ModelFileError.invalid("metadata 'features' is not a JSON list of names") }
        guard let treatments = file.metadata["treatments"].flatMap(parseList), !treatments.isEmpty else { throw ModelFileError.invalid("metadata 'treatments' is not a JSON list of names") }
        func dim(_ name: String, _ axis: Int) throws -> Int {
            guard let t = file.tensors[name] else { throw ModelFileError.invalid("tensor '\(name)' is missing") }
            guard t.shape.count > axis else { throw ModelFileError.invalid("tensor '\(name)' has shape \(t.shape)") }
            return t.shape[axis]
        }
        let shape = ModelShape(features: features.count, embed: try dim("embed.weight", 0), hidden: try dim("gru.weight_hh_l0", 1),
                               attention: try dim("attn_proj.weight", 0), treatments: treatments.count)
        let layout = ParameterLayout(shape)
        var parameters = [Float](repeating: 0, count: layout.count)
        let expected = layout.tensors.map { ($0.name, $0.shape) } + [("input_mean", [shape.features]), ("input_std", [shape.features])]
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
        let std = file.tensors["input_std"]!.values
        if let i = std.firstIndex(where: { $0 <= 0 }) { throw ModelFileError.invalid("input_std[\(i)] is \(std[i]); it must be positive") }
        var rest = file.metadata
        for k in ["architecture", "features", "treatments"] { rest[k] = nil }
        return ModelFile(model: GRUAttention(shape: shape, parameters: parameters, inputMean: file.tensors["input_mean"]!.values, inputStd: std),
                         features: features, treatments: treatments, extra: rest, trainingRange: range)
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
