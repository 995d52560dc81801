import Foundation

/// The population the pack's model was made for (`Knowledge/population.yaml`), and the check
/// that says why a patient is outside it.
///
/// Outside is not an error: the record and the guideline checks still apply. It says that the
/// model's distribution does not, so that views can say so and decisions can ask for `--confirm`.
public struct Population: Sendable {
    public var description: String
    public var minAge: Int?
    /// A condition id (context or condition feature) that qualifies, when coded.
    public var diagnosis: String?
    /// Derivation of the diagnosis from values: `feature >= atLeast` on `occasions` occasions.
    public var derived: (feature: String, atLeast: Double, occasions: Int)?
    public var excludes: [String]

    /// No restriction (a pack without population.yaml).
    public static let anyone = Population(description: "anyone", minAge: nil, diagnosis: nil, derived: nil, excludes: [])

    public init(description: String, minAge: Int?, diagnosis: String?, derived: (feature: String, atLeast: Double, occasions: Int)?, excludes: [String]) {
        self.description = description; self.minAge = minAge; self.diagnosis = diagnosis; self.derived = derived; self.excludes = excludes
    }

    /// Why `record`, reviewed at `date`, is outside the population; empty when it is inside.
    public func reasons(_ record: PatientRecord, at date: Date, pack: KnowledgePack) -> [String] {
        var out: [String] = []
        let age = record.age(at: date)
        if let minAge, age < minAge { out.append("aged \(age): the model is for adults (\(minAge) or older)") }
        let context = pack.context.conditions(of: record, at: date)
        let features = FeatureExtractor(pack: pack).conditionFeatures(for: record, at: date)
        func holding(_ id: String) -> String? {
            if let c = context.first(where: { $0.condition.id == id }) { return "\(c.entry.display) since \(ClinicalCalendar.dayString(c.entry.onset))" }
            if features.contains(id) {
                let coded = record.conditions.first { $0.isActive(at: date) && pack.features.conditionFeature(code: $0.code, display: $0.display)?.0.id == id }
                return coded.map { "\($0.display) since \(ClinicalCalendar.dayString($0.onset))" } ?? "derived"
            }
            return nil
        }
        for id in excludes {
            if let why = holding(id) {
                let name = pack.context.condition(id: id)?.name ?? pack.features.definition(id: id)?.name ?? id
                out.append("\(name.lowercased()) (\(why)): outside the population the model was made for")
            }
        }
        if let diagnosis, holding(diagnosis) == nil {
            let name = pack.context.condition(id: diagnosis)?.name ?? pack.features.definition(id: diagnosis)?.name ?? diagnosis
            var why = "no \(name.lowercased()) coded"
            if let d = derived {
                let high = Self.values(of: d.feature, in: record, through: date, pack: pack).filter { $0.value >= d.atLeast }
                let occasions = Set(high.map { ClinicalCalendar.dayString($0.time) }).count
                if occasions >= d.occasions { return out }
                let unit = pack.features.definition(id: d.feature)?.unit ?? ""
                let feature = pack.features.definition(id: d.feature)?.name ?? d.feature
                why += String(format: ", and %@ ≥ %g %@ on %d occasion(s), not the %d that confirm it", feature, d.atLeast, unit, occasions, d.occasions)
            }
            out.append(why)
        }
        return out
    }

    /// Every usable value of a measured feature up to `date`, oldest first.
    static func values(of feature: String, in record: PatientRecord, through date: Date, pack: KnowledgePack) -> [KnownValue] {
        var out: [KnownValue] = []
        for v in record.visits {
            for o in v.observations where o.time <= date {
                if case .value(let f, let x) = pack.features.measure(o), f == feature { out.append(KnownValue(feature: f, value: x, time: o.time)) }
            }
        }
        return out.sorted { $0.time < $1.time }
    }

    static func load(from directory: URL) throws -> Population {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("population.yaml").path) else { return .anyone }
        struct Derived: Decodable { var feature: String; var at_least: Double; var occasions: Int }
        struct Diagnosis: Decodable { var condition: String; var derived: Derived? }
        struct Body: Decodable { var description: String; var min_age: Int?; var diagnosis: Diagnosis?; var excludes: [String]? }
        struct File: Decodable { var version: Int; var population: Body }
        let f: File = try KnowledgePack.decode("population.yaml", in: directory)
        let b = f.population
        return Population(description: b.description, minAge: b.min_age, diagnosis: b.diagnosis?.condition,
                          derived: b.diagnosis?.derived.map { ($0.feature, $0.at_least, max(1, $0.occasions)) }, excludes: b.excludes ?? [])
    }
}
