/// The treatment options of the knowledge pack (`Knowledge/treatments.yaml`) and the mapping
/// of real prescriptions onto them.
public struct TreatmentCatalog: Sendable {
    public let options: [TreatmentOption]
    private let byID: [String: Int]
    private let byRxNorm: [String: (option: Int, related: Bool)]
    /// Normalized ingredient and brand phrases, longest first so that "insulin glargine" wins
    /// over "insulin".
    private let phrases: [(phrase: String, option: Int, related: Bool)]

    public init(options: [TreatmentOption]) throws {
        self.options = options
        var ids: [String: Int] = [:]
        var rx: [String: (Int, Bool)] = [:]
        var phrases: [(String, Int, Bool)] = []
        for (i, o) in options.enumerated() {
            guard ids[o.id] == nil else { throw KnowledgeError.invalid(file: "treatments.yaml", path: "treatments[\(i)]", message: "duplicate treatment id '\(o.id)'") }
            ids[o.id] = i
            for (list, related) in [(o.ingredients, false), (o.related, true)] {
                for ing in list {
                    if let code = ing.rxnorm {
                        if let other = rx[code] { throw KnowledgeError.invalid(file: "treatments.yaml", path: "treatments[\(i)]", message: "RxNorm \(code) already belongs to '\(options[other.0].id)'") }
                        rx[code] = (i, related)
                    }
                    for p in [ing.name] + ing.brands { phrases.append((TextMatch.normalize(p), i, related)) }
                }
            }
        }
        self.byID = ids
        self.byRxNorm = rx
        self.phrases = phrases.sorted { $0.0.count > $1.0.count }
    }

    public var ids: [String] { options.map(\.id) }
    public func option(id: String) -> TreatmentOption? { byID[id].map { options[$0] } }
    public func index(of id: String) -> Int? { byID[id] }

    /// The option a prescription belongs to: by RxNorm ingredient code, else by the ingredient
    /// and brand names in its display text. Nil when it is no glucose-lowering drug of the pack.
    public func map(code: String, display: String) -> MedicationMapping? {
        if let hit = byRxNorm[code] { return MedicationMapping(treatment: options[hit.option].id, related: hit.related, matchedBy: .code) }
        let text = TextMatch.normalize(display)
        guard let hit = phrases.first(where: { TextMatch.contains(text, normalizedPhrase: $0.phrase) }) else { return nil }
        return MedicationMapping(treatment: options[hit.option].id, related: hit.related, matchedBy: .name)
    }
}

public struct MedicationMapping: Sendable, Equatable {
    public var treatment: String
    /// A related drug (premixed insulin for basal insulin): current therapy of that kind, not the option itself.
    public var related: Bool
    public var matchedBy: MatchKind
}

/// One entry of `treatments.yaml`.
public struct TreatmentOption: Sendable, Decodable {
    public var id: String
    public var name: String
    public var drugClass: String
    public var ingredients: [Ingredient]
    public var related: [Ingredient]

    enum CodingKeys: String, CodingKey { case id, name, drugClass = "class", ingredients, related }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        drugClass = try c.decode(String.self, forKey: .drugClass)
        ingredients = try c.decodeIfPresent([Ingredient].self, forKey: .ingredients) ?? []
        related = try c.decodeIfPresent([Ingredient].self, forKey: .related) ?? []
    }

    public struct Ingredient: Sendable, Decodable {
        public var name: String
        public var rxnorm: String?
        public var brands: [String]
        enum CodingKeys: String, CodingKey { case name, rxnorm, brands }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            rxnorm = try c.decodeIfPresent(String.self, forKey: .rxnorm)
            brands = try c.decodeIfPresent([String].self, forKey: .brands) ?? []
        }
    }
}
