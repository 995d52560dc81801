import Foundation

/// The clinical context of the knowledge pack (`Knowledge/context.yaml`): conditions, labs and
/// drug classes that a clinician and the guideline rules need and the model does not see.
///
/// Kept apart from `FeatureCatalog` on purpose: the model's input columns are features.yaml
/// alone, so adding a context fact never changes what the model reads or a model file's shape.
public struct ContextCatalog: Sendable {
    /// Context conditions (type 2 diabetes, type 1 diabetes, complications...).
    public let conditions: [ContextCondition]
    /// Context labs (HDL, total cholesterol, albumin...): measured like features, never model columns.
    public let labs: FeatureCatalog
    /// Drug classes outside the glucose-lowering options (ACE inhibitor, statin...).
    public let therapies: TreatmentCatalog

    private let conditionsBySNOMED: [String: [Int]]
    private let conditionPhrases: [(phrase: String, index: Int)]

    public static let empty = try! ContextCatalog(conditions: [], labs: [], therapies: [])

    public init(conditions: [ContextCondition], labs: [FeatureDefinition], therapies: [TreatmentOption]) throws {
        var ids = Set<String>()
        for (i, c) in conditions.enumerated() {
            guard ids.insert(c.id).inserted else { throw KnowledgeError.invalid(file: "context.yaml", path: "conditions[\(i)]", message: "duplicate condition id '\(c.id)'") }
        }
        for (i, l) in labs.enumerated() where l.kind != .lab && l.kind != .vital {
            throw KnowledgeError.invalid(file: "context.yaml", path: "labs[\(i)]", message: "'\(l.id)' must be of kind lab or vital")
        }
        self.conditions = conditions
        self.labs = try FeatureCatalog(definitions: labs)
        self.therapies = try TreatmentCatalog(options: therapies)
        var bySNOMED: [String: [Int]] = [:]
        for (i, c) in conditions.enumerated() { for code in c.snomed { bySNOMED[code, default: []].append(i) } }
        conditionsBySNOMED = bySNOMED
        conditionPhrases = conditions.enumerated().flatMap { i, c in c.names.map { (TextMatch.normalize($0), i) } }
    }

    public func condition(id: String) -> ContextCondition? { conditions.first { $0.id == id } }

    /// The context conditions a coded diagnosis belongs to: by SNOMED code, else by the names
    /// in its display text.
    public func conditions(code: String, display: String) -> [ContextCondition] {
        if let hits = conditionsBySNOMED[code] { return hits.map { conditions[$0] } }
        let text = TextMatch.normalize(display)
        var seen = Set<Int>()
        return conditionPhrases.filter { TextMatch.contains(text, normalizedPhrase: $0.phrase) && seen.insert($0.index).inserted }.map { conditions[$0.index] }
    }

    /// The context conditions of `record` active at `date`, each with the diagnosis that gave it.
    public func conditions(of record: PatientRecord, at date: Date) -> [(condition: ContextCondition, entry: ConditionEntry)] {
        var out: [(ContextCondition, ConditionEntry)] = []
        var seen = Set<String>()
        for entry in record.conditions where entry.isActive(at: date) {
            for c in conditions(code: entry.code, display: entry.display) where seen.insert(c.id).inserted { out.append((c, entry)) }
        }
        return out.sorted { $0.0.id < $1.0.id }
    }

    /// The drug classes (therapy ids) of `record` taken at `date`, each with one prescription.
    public func therapies(of record: PatientRecord, at date: Date) -> [(therapy: TreatmentOption, entry: MedicationEntry)] {
        var out: [String: (TreatmentOption, MedicationEntry)] = [:]
        for m in record.activeMedications(at: date) {
            if let map = therapies.map(code: m.code, display: m.display), out[map.treatment] == nil, let t = therapies.option(id: map.treatment) {
                out[map.treatment] = (t, m)
            }
        }
        return out.values.sorted { $0.0.id < $1.0.id }
    }

    /// Whether any part of the context knows `code` (so import does not call it unmapped).
    public func knowsCondition(code: String, display: String) -> Bool { !conditions(code: code, display: display).isEmpty }

    static func load(from directory: URL) throws -> ContextCatalog {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("context.yaml").path) else { return .empty }
        struct File: Decodable {
            var version: Int
            var conditions: [ContextCondition]?
            var labs: [FeatureDefinition]?
            var therapies: [TreatmentOption]?
        }
        let file: File = try KnowledgePack.decode("context.yaml", in: directory)
        return try ContextCatalog(conditions: file.conditions ?? [], labs: file.labs ?? [], therapies: file.therapies ?? [])
    }
}

/// One condition of `context.yaml`.
public struct ContextCondition: Sendable, Decodable {
    public var id: String
    public var name: String
    public var snomed: [String]
    public var names: [String]

    enum CodingKeys: String, CodingKey { case id, name, snomed, names }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        snomed = try c.decodeIfPresent([String].self, forKey: .snomed) ?? []
        names = try c.decodeIfPresent([String].self, forKey: .names) ?? []
    }
}
