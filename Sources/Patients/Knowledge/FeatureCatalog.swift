import Foundation

/// The model's features as `Knowledge/features.yaml` defines them, and the columns of the
/// feature matrix they expand to.
///
/// A measured feature (lab, vital) with a missing-value indicator becomes two columns:
/// `<id>` (the value, filled with the population mean when unknown) and `<id>_missing`.
public struct FeatureCatalog: Sendable {
    public let definitions: [FeatureDefinition]
    /// Column names of the feature matrix, in order: the `features` list of the model contract.
    public let columns: [String]

    private let byLOINC: [String: Int]
    private let bySNOMED: [String: Int]
    private let byID: [String: Int]
    private let conditionPhrases: [(phrase: String, index: Int)]

    public init(definitions: [FeatureDefinition]) throws {
        self.definitions = definitions
        var columns: [String] = []
        var loinc: [String: Int] = [:], snomed: [String: Int] = [:], ids: [String: Int] = [:]
        for (i, d) in definitions.enumerated() {
            guard ids[d.id] == nil else { throw KnowledgeError.invalid(file: "features.yaml", path: "features[\(i)]", message: "duplicate feature id '\(d.id)'") }
            ids[d.id] = i
            columns.append(d.id)
            if d.missingIndicator { columns.append(d.id + "_missing") }
            for code in d.loinc {
                if let other = loinc[code] { throw KnowledgeError.invalid(file: "features.yaml", path: "features[\(i)].loinc", message: "LOINC \(code) already feeds '\(definitions[other].id)'") }
                loinc[code] = i
            }
            for code in d.snomed {
                if let other = snomed[code] { throw KnowledgeError.invalid(file: "features.yaml", path: "features[\(i)].snomed", message: "SNOMED \(code) already feeds '\(definitions[other].id)'") }
                snomed[code] = i
            }
        }
        self.columns = columns
        self.byLOINC = loinc; self.bySNOMED = snomed; self.byID = ids
        self.conditionPhrases = definitions.enumerated().flatMap { i, d in
            d.kind == .condition ? d.names.map { (TextMatch.normalize($0), i) } : []
        }
    }

    public func definition(id: String) -> FeatureDefinition? { byID[id].map { definitions[$0] } }
    public func definition(loinc code: String) -> FeatureDefinition? { byLOINC[code].map { definitions[$0] } }
    public func definition(snomed code: String) -> FeatureDefinition? { bySNOMED[code].map { definitions[$0] } }
    public var measured: [FeatureDefinition] { definitions.filter { $0.kind == .lab || $0.kind == .vital } }
    public var conditions: [FeatureDefinition] { definitions.filter { $0.kind == .condition } }
    public var medications: [FeatureDefinition] { definitions.filter { $0.kind == .medication } }

    /// The condition feature a coded diagnosis feeds: by SNOMED code first, then by the
    /// feature's `names` phrases in the display text.
    public func conditionFeature(code: String, display: String) -> (FeatureDefinition, MatchKind)? {
        if let d = definition(snomed: code) { return (d, .code) }
        let text = TextMatch.normalize(display)
        return conditionPhrases.first { TextMatch.contains(text, normalizedPhrase: $0.phrase) }.map { (definitions[$0.index], .name) }
    }
}

/// How a code was recognised.
public enum MatchKind: String, Sendable, Codable { case code, name }

public enum FeatureKind: String, Sendable, Codable { case lab, vital, condition, medication, demographic, history }

/// How a `history` feature is read off the timeline as of a visit (docs/features in
/// `Knowledge/features.yaml`; `FeatureExtractor` computes them).
public enum HistoryDerivation: String, Sendable, Codable {
    /// Days since the previous visit (unknown at the first visit).
    case interval
    /// Years since the current course of the option's drugs began (0 when not taking one).
    case timeOn = "time_on"
    /// 1 when a drug of the option was taken before and is no longer taken at the visit.
    case stopped
    /// The change of the `of` feature on the option's latest course: its first value measured
    /// at least 60 days after the start (and before any stop) minus the latest value at or before
    /// the start (within the feature's carry-forward window); unknown until both are known.
    case response
}

/// One entry of `features.yaml`.
public struct FeatureDefinition: Sendable, Decodable {
    public var id: String
    public var name: String
    public var kind: FeatureKind
    public var loinc: [String]
    public var snomed: [String]
    public var names: [String]
    /// Canonical unit for measured values.
    public var unit: String?
    /// Other spellings of the canonical unit.
    public var aliases: [String]
    public var conversions: [UnitConversion]
    /// Plausible range in the canonical unit, inclusive.
    public var range: ClosedRange<Double>?
    public var missingIndicator: Bool
    /// How long a measured value stays the known value after it was taken.
    public var carryForwardDays: Double
    /// For conditions: also true when a measured feature crosses a threshold.
    public var derived: DerivedCondition?
    /// For conditions: once diagnosed, a fact for the rest of the record.
    public var history: Bool
    /// For medications: the treatment option whose drugs count.
    public var treatment: String?
    /// For medications: also count the option's related drugs (premixed insulin, ...).
    public var includeRelated: Bool
    /// For history features: what is read off the timeline.
    public var derive: HistoryDerivation?
    /// For `response` history features: the measured feature whose change is read.
    public var of: String?
    /// Normalized unit spelling -> (scale, offset) to the canonical unit.
    private var unitTable: [String: (Double, Double)] = [:]

    enum CodingKeys: String, CodingKey {
        case id, name, kind, loinc, snomed, names, unit, aliases, conversions, range, missing, derived, history, treatment, derive, of
        case includeRelated = "include_related"
    }
    struct Missing: Decodable {
        var indicator: Bool?
        var carry_forward_days: Double?
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(FeatureKind.self, forKey: .kind)
        loinc = try c.decodeIfPresent([String].self, forKey: .loinc) ?? []
        snomed = try c.decodeIfPresent([String].self, forKey: .snomed) ?? []
        names = try c.decodeIfPresent([String].self, forKey: .names) ?? []
        unit = try c.decodeIfPresent(String.self, forKey: .unit)
        aliases = try c.decodeIfPresent([String].self, forKey: .aliases) ?? []
        conversions = try c.decodeIfPresent([UnitConversion].self, forKey: .conversions) ?? []
        if let r = try c.decodeIfPresent([Double].self, forKey: .range) {
            guard r.count == 2, r[0] <= r[1] else {
                throw DecodingError.dataCorruptedError(forKey: .range, in: c, debugDescription: "range must be [low, high] with low <= high")
            }
            range = r[0]...r[1]
        } else { range = nil }
        let missing = try c.decodeIfPresent(Missing.self, forKey: .missing)
        missingIndicator = missing?.indicator ?? false
        carryForwardDays = missing?.carry_forward_days ?? 0
        derived = try c.decodeIfPresent(DerivedCondition.self, forKey: .derived)
        history = try c.decodeIfPresent(Bool.self, forKey: .history) ?? false
        treatment = try c.decodeIfPresent(String.self, forKey: .treatment)
        includeRelated = try c.decodeIfPresent(Bool.self, forKey: .includeRelated) ?? false
        derive = try c.decodeIfPresent(HistoryDerivation.self, forKey: .derive)
        of = try c.decodeIfPresent(String.self, forKey: .of)
        var table: [String: (Double, Double)] = [:]
        for conv in conversions { table[UnitConversion.normalize(conv.unit)] = (conv.scale, conv.offset) }
        for u in aliases + (unit.map { [$0] } ?? []) { table[UnitConversion.normalize(u)] = (1, 0) }
        unitTable = table
        if (kind == .lab || kind == .vital) && unit == nil {
            throw DecodingError.dataCorruptedError(forKey: .unit, in: c, debugDescription: "feature '\(id)' is a \(kind.rawValue) and needs a unit")
        }
        if kind == .medication && treatment == nil {
            throw DecodingError.dataCorruptedError(forKey: .treatment, in: c, debugDescription: "medication feature '\(id)' needs a treatment")
        }
        if kind == .history {
            guard let derive else {
                throw DecodingError.dataCorruptedError(forKey: .derive, in: c, debugDescription: "history feature '\(id)' needs derive: interval, time_on, stopped or response")
            }
            if derive != .interval && treatment == nil {
                throw DecodingError.dataCorruptedError(forKey: .treatment, in: c, debugDescription: "history feature '\(id)' (\(derive.rawValue)) needs a treatment")
            }
            if derive == .response && of == nil {
                throw DecodingError.dataCorruptedError(forKey: .of, in: c, debugDescription: "history feature '\(id)' (response) needs `of`: the measured feature whose change it reads")
            }
        }
    }

    /// Converts a value in `unit` to the canonical unit, or nil when the unit is not known.
    public func canonicalValue(_ value: Double, unit given: String) -> Double? {
        guard let (scale, offset) = unitTable[UnitConversion.normalize(given)] else { return nil }
        return value * scale + offset
    }
}

/// `canonical = value * scale + offset`.
public struct UnitConversion: Sendable, Decodable {
    public var unit: String
    public var scale: Double
    public var offset: Double

    enum CodingKeys: String, CodingKey { case unit, scale, offset }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        unit = try c.decode(String.self, forKey: .unit)
        scale = try c.decode(Double.self, forKey: .scale)
        offset = try c.decodeIfPresent(Double.self, forKey: .offset) ?? 0
    }

    /// Unit spellings compared without case, spaces, and with µ written as u.
    public static func normalize(_ unit: String) -> String {
        var out = String.UnicodeScalarView()
        for c in unit.unicodeScalars {
            switch c {
            case " ", "\u{200B}", "\u{FEFF}": continue
            case "µ", "μ": out.append("u")
            case "A"..."Z": out.append(Unicode.Scalar(c.value + 32)!)
            default: out.append(c)
            }
        }
        return String(out)
    }
}

/// A condition that also holds when a measured value crosses a threshold
/// (`{from: egfr, below: 60}`).
public struct DerivedCondition: Sendable, Decodable {
    public var from: String
    public var below: Double?
    public var atLeast: Double?
    enum CodingKeys: String, CodingKey { case from, below, atLeast = "at_least" }

    public func holds(_ value: Double) -> Bool {
        if let b = below, value < b { return true }
        if let a = atLeast, value >= a { return true }
        return false
    }
}
