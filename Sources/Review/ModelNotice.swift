import Foundation
import Patients
import TreatmentModel

/// What every model view says beside its numbers, in JSON: when the patient is reviewed and
/// why then, whether they died, whether the model applies to them, and that it was trained on
/// synthetic patients, with every input outside its training range.
public struct ModelNotice: Encodable, Sendable {
    public var reviewDate: String
    public var reviewBasis: String
    public var modelVisit: Int
    public var modelVisitDate: String
    public var deceased: String?
    public var syntheticPatient: Bool
    public var modelTrainedOn: String
    /// Why the model's distribution does not apply (empty: it does).
    public var outsidePopulation: [String]
    /// Whether the model file stores training ranges (`train_min`/`train_max`).
    public var trainingRangeKnown: Bool
    public var inputsOutsideTrainingRange: [InputOutsideTraining]
}

/// One input the model saw that lies outside the values it was trained on.
public struct InputOutsideTraining: Encodable, Equatable, Sendable {
    public var column: String
    public var name: String
    public var value: Float
    public var unit: String
    /// Nil: the column was never observed in training.
    public var trainedMin: Float?
    public var trainedMax: Float?
    /// The visit at which the value furthest outside was seen.
    public var date: String

    public var text: String {
        let range = trainedMin.map { lo in String(format: "trained on %g–%g", lo, trainedMax ?? lo) } ?? "never observed in training"
        return String(format: "%@ %g%@ on %@ (%@)", name, value, unit.isEmpty ? "" : " " + unit, date, range)
    }

    /// The inputs of `rows` (the model's raw input, one row per visit dated `visits`) outside the
    /// training range `file` stores; empty when it stores none.
    public static func list(_ rows: [[Float]], visits: [Date], file: ModelFile, pack: KnowledgePack) -> [InputOutsideTraining] {
        guard let range = file.trainingRange else { return [] }
        return range.outside(rows).map { e in
            let column = file.features.indices.contains(e.column) ? file.features[e.column] : "column \(e.column)"
            let base = column.hasSuffix("_missing") ? String(column.dropLast(8)) : column
            let def = pack.features.definition(id: base)
            let name = column.hasSuffix("_missing") ? "\(def?.name ?? base) missing" : (def?.name ?? column)
            let t = rows.firstIndex { $0.indices.contains(e.column) && $0[e.column] == e.value } ?? 0
            return InputOutsideTraining(column: column, name: name, value: e.value, unit: column.hasSuffix("_missing") ? "" : (def?.unit ?? ""),
                                        trainedMin: e.min, trainedMax: e.max, date: visits.indices.contains(t) ? ClinicalCalendar.dayString(visits[t]) : "")
        }
    }
}
