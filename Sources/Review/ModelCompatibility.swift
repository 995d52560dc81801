import Patients
import TreatmentModel

/// Checks that a model file speaks the knowledge pack's features and treatments.
public enum ModelCompatibility {
    public static func check(_ file: ModelFile, pack: KnowledgePack) throws {
        guard file.features == pack.features.columns else {
            let missing = Set(pack.features.columns).subtracting(file.features).sorted(), extra = Set(file.features).subtracting(pack.features.columns).sorted()
            throw ReviewError("the model's features do not match Knowledge/features.yaml"
                                  + (missing.isEmpty ? "" : "; missing: \(missing.joined(separator: ", "))")
                                  + (extra.isEmpty ? "" : "; unknown: \(extra.joined(separator: ", "))")
                                  + (missing.isEmpty && extra.isEmpty ? " (same names, different order)" : ""))
        }
        guard file.treatments == pack.treatments.ids else {
            throw ReviewError("the model's treatments \(file.treatments) do not match Knowledge/treatments.yaml \(pack.treatments.ids)")
        }
    }
}
