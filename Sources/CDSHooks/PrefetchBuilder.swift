import Foundation
import Patients

/// What a FHIR server answers to this service's prefetch templates for one patient, built from
/// a FHIR transaction Bundle (a Synthea export): the Patient, and a searchset Bundle per query,
/// the observations only those with the pack's LOINC codes, references as `Type/id` (what a
/// server gives once it stored the transaction's `urn:uuid:` entries). The tests, the load test
/// and anyone trying the service with curl build hook requests with it.
public enum PrefetchBuilder {
    public static func prefetch(transaction data: Data, pack: KnowledgePack) throws -> (prefetch: [String: Any], patientId: String) {
        guard let bundle = try JSONSerialization.jsonObject(with: data) as? [String: Any], let entries = bundle["entry"] as? [[String: Any]] else {
            throw CDSHooksError.badRequest("not a FHIR Bundle with entries")
        }
        var refs: [String: String] = [:]
        for e in entries {
            if let url = e["fullUrl"] as? String, let r = e["resource"] as? [String: Any], let t = r["resourceType"] as? String, let id = r["id"] as? String {
                refs[url] = "\(t)/\(id)"
            }
        }
        let loinc = Set(pack.features.definitions.flatMap(\.loinc))
        // `combo-code` matches the observation's code or a component's (blood pressure panels).
        func codes(_ r: [String: Any]) -> [String] {
            func of(_ o: [String: Any]) -> [String] { (((o["code"] as? [String: Any])?["coding"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String } }
            return of(r) + ((r["component"] as? [[String: Any]]) ?? []).flatMap(of)
        }
        func of(_ type: String...) -> [String: Any] {
            let found = entries.compactMap { $0["resource"] as? [String: Any] }
                .filter { type.contains(($0["resourceType"] as? String) ?? "") }
                .filter { $0["resourceType"] as? String != "Observation" || codes($0).contains(where: loinc.contains) }
                .map { r -> [String: Any] in ["fullUrl": "urn:rounds:\(r["resourceType"]!)/\(r["id"]!)", "resource": resolve(r, refs), "search": ["mode": "match"]] }
            return ["resourceType": "Bundle", "type": "searchset", "total": found.count, "entry": found]
        }
        guard let patient = entries.compactMap({ $0["resource"] as? [String: Any] }).first(where: { $0["resourceType"] as? String == "Patient" }),
              let id = patient["id"] as? String else { throw CDSHooksError.badRequest("the Bundle holds no Patient with an id") }
        return (["patient": resolve(patient, refs), "encounters": of("Encounter"), "observations": of("Observation"),
                 "conditions": of("Condition"), "medications": of("MedicationRequest", "Medication")], id)
    }

    /// A hook request for the patient of `transaction`, as `userId` (`Practitioner/ID`).
    public static func hookRequest(hook: String = "patient-view", transaction data: Data, pack: KnowledgePack, userId: String,
                                   context extra: [String: Any] = [:]) throws -> [String: Any] {
        let (prefetch, id) = try prefetch(transaction: data, pack: pack)
        var context: [String: Any] = ["patientId": id, "userId": userId]
        for (k, v) in extra { context[k] = v }
        return ["hook": hook, "hookInstance": UUID().uuidString.lowercased(), "context": context, "prefetch": prefetch]
    }

    private static func resolve(_ value: Any, _ refs: [String: String]) -> Any {
        if let o = value as? [String: Any] {
            var out: [String: Any] = [:]
            for (k, v) in o { out[k] = (k == "reference" ? (v as? String).flatMap { refs[$0] } : nil) ?? resolve(v, refs) }
            return out
        }
        if let a = value as? [Any] { return a.map { resolve($0, refs) } }
        return value
    }
}
