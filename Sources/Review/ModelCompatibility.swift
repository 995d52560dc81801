import Patients
import TreatmentModel

/// Checks that a model file speaks the knowledge pack's features and treatments.
public enum ModelCompatibility {
    /// Every feature of the model must be a column of the pack; the pack may have more (a model
    /// trained before features were added reads its own). Returns where the model's features
    /// are among the pack's columns, or nil when they are the pack's columns exactly.
    @discardableResult
    public static func check(_ file: ModelFile, pack: KnowledgePack) throws -> [Int]? {
        guard let columns = Dataset.columnIndices(of: file.features, in: pack.features.columns) else {
            let unknown = Set(file.features).subtracting(pack.features.columns).sorted()
            throw ReviewError("the model's features do not match Knowledge/features.yaml; unknown: \(unknown.joined(separator: ", "))")
        }
        guard file.treatments == pack.treatments.ids else {
            throw ReviewError("the model's treatments \(file.treatments) do not match Knowledge/treatments.yaml \(pack.treatments.ids)")
        }
        return file.features == pack.features.columns ? nil : columns
    }
}
