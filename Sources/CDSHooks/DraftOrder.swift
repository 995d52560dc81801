import Foundation
import Patients

/// The medication an `order-select` call is about: the selected MedicationRequest of
/// `context.draftOrders`, mapped onto a treatment option as import maps prescriptions.
struct DraftOrder {
    /// The option's index, or nil when the drafted drug is no glucose-lowering option of the pack.
    var option: Int?

    static func selected(in context: [String: Any], pack: KnowledgePack, treatments: [TreatmentOption]) throws -> DraftOrder {
        guard let selections = context["selections"] as? [String], !selections.isEmpty else {
            throw CDSHooksError.badRequest("context.selections is missing: order-select names the selected orders (e.g. [\"MedicationRequest/abc\"])")
        }
        guard let bundle = context["draftOrders"] as? [String: Any], bundle["resourceType"] as? String == "Bundle" else {
            throw CDSHooksError.badRequest("context.draftOrders must be a FHIR Bundle of the drafted orders")
        }
        let resources = ((bundle["entry"] as? [Any]) ?? []).compactMap { ($0 as? [String: Any])?["resource"] as? [String: Any] }
        for sel in selections {
            guard let r = resources.first(where: { r in "\(r["resourceType"] as? String ?? "")/\(r["id"] as? String ?? "")" == sel }) else {
                throw CDSHooksError.badRequest("context.selections names \(sel), which is not in context.draftOrders")
            }
            guard r["resourceType"] as? String == "MedicationRequest" else { continue }
            let concept = r["medicationCodeableConcept"] as? [String: Any]
            let codings = (concept?["coding"] as? [[String: Any]]) ?? []
            let text = (concept?["text"] as? String) ?? ""
            let candidates: [[String: Any]] = codings + [["code": "", "display": text]]
            for c in candidates {
                let code = c["code"] as? String ?? "", display = (c["display"] as? String) ?? text
                if let m = pack.treatments.map(code: code, display: display), !m.related, let k = treatments.firstIndex(where: { $0.id == m.treatment }) {
                    return DraftOrder(option: k)
                }
            }
            guard concept != nil else {
                throw CDSHooksError.badRequest("\(sel) has no medicationCodeableConcept: the service reads the drafted drug from it")
            }
        }
        return DraftOrder(option: nil)
    }

    /// Whether the record shows the patient taking the option at `date`.
    static func takes(_ record: PatientRecord, option: String, at date: Date, pack: KnowledgePack) -> Bool {
        record.activeMedications(at: date).contains { pack.treatments.map(code: $0.code, display: $0.display)?.treatment == option }
    }
}
