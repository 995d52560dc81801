/// What an observation means to the model: a usable value of a feature, or why it is not one.
public enum Measurement: Sendable, Equatable {
    /// A value of `feature` in its canonical unit.
    case value(feature: String, canonical: Double)
    /// The code feeds no model feature (kept in the record, reported by import).
    case unmapped
    /// The code feeds `feature` but the unit is none that the pack can convert.
    case unknownUnit(feature: String, unit: String)
    /// The converted value lies outside the feature's plausible range: reported and not used.
    case outOfRange(feature: String, canonical: Double, range: ClosedRange<Double>)
}

extension FeatureCatalog {
    /// Maps one observation onto a model feature, converting its unit and checking the range.
    public func measure(code: String, value: Double, unit: String) -> Measurement {
        guard let def = definition(loinc: code), def.kind == .lab || def.kind == .vital else { return .unmapped }
        guard let canonical = def.canonicalValue(value, unit: unit) else { return .unknownUnit(feature: def.id, unit: unit) }
        if let range = def.range, !range.contains(canonical) || !canonical.isFinite {
            return .outOfRange(feature: def.id, canonical: canonical, range: range)
        }
        return .value(feature: def.id, canonical: canonical)
    }

    public func measure(_ o: Observation) -> Measurement { measure(code: o.code, value: o.value, unit: o.unit) }
}
