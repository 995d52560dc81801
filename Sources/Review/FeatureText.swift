import Foundation
import Patients

/// How a raw model input reads to a clinician: a value with its unit, yes/no, or "unknown".
/// `explain` and the case report list the same cells in the same words.
public enum FeatureText {
    /// A raw cell of feature `feature` (a model column id), or "unknown" for a missing value.
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

    /// New diagnoses, medication starts and stops, and HbA1c and eGFR measured at visit `i`:
    /// what `attention` lists beside each visit's weight.
    public static func changes(_ r: PatientRecord, _ i: Int, _ pack: KnowledgePack) -> [String] {
        // What happened after the previous visit's day, up to the end of this visit's day.
        let end = r.visits[i].date.addingTimeInterval(86400)
        let start = i > 0 ? r.visits[i - 1].date.addingTimeInterval(86400) : .distantPast
        func inWindow(_ d: Date) -> Bool { d > start && d <= end }
        var out: [String] = []
        for c in r.conditions where inWindow(c.onset) { out.append("new: " + c.display) }
        for m in r.medications where inWindow(m.start) { out.append("started " + m.display) }
        for m in r.medications where m.end.map(inWindow) ?? false { out.append("stopped " + m.display) }
        for o in r.visits[i].observations {
            if case .value(let f, let v) = pack.features.measure(o), ["hba1c", "egfr"].contains(f) {
                out.append(String(format: "%@ %.1f", pack.features.definition(id: f)?.name ?? f, v))
            }
        }
        return out
    }
}
