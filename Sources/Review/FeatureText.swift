import Foundation
import Patients

/// A model input cell in words, for any front end: a value with its unit, yes/no for a
/// condition or medication, "unknown" for a missing value.
public enum FeatureText {
    /// A raw cell with its unit, or "unknown" for a missing value.
    public static func describe(_ feature: String, _ value: Float, _ pack: KnowledgePack) -> String {
        if value.isNaN { return "unknown (filled with the mean)" }
        if let def = pack.features.definition(id: feature) {
            switch def.kind {
            case .lab, .vital: return String(format: "%.1f %@", value, def.unit ?? "")
            case .condition, .medication: return value == 1 ? "yes" : "no"
            case .demographic: return feature == "sex_female" ? (value == 1 ? "female" : "male") : String(format: "%.0f", value)
            case .history:
                switch def.derive {
                case .stopped: return value == 1 ? "yes" : "no"
                case .response: return String(format: "%+.1f %@", value, def.unit ?? "")
                default: return String(format: "%.1f %@", value, def.unit ?? "")
                }
            }
        }
        if feature.hasSuffix("_missing") { return value == 1 ? "missing" : "measured" }
        return String(format: "%g", value)
    }
}
