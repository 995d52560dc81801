import Patients

/// One CDS Service as discovery lists it (CDS Hooks 2.0 `GET /cds-services`): its id, hook,
/// title, description and the prefetch templates the client fills in.
public struct ServiceDefinition: Codable, Sendable, Equatable {
    public var id: String
    public var hook: String
    public var title: String
    public var description: String
    public var prefetch: [String: String]
    public var usageRequirements: String?

    /// The keys every hook call must prefetch: the service never queries the client's FHIR server.
    public static let prefetchKeys = ["patient", "encounters", "observations", "conditions", "medications"]

    static let patientView = "rounds-t2d-patient-view"
    static let orderSelect = "rounds-t2d-order-select"

    /// The services of this knowledge pack: the observations template asks for exactly the
    /// LOINC codes the pack's features read (`combo-code`: the observation's code or a
    /// component's, so that blood-pressure panels come with their systolic and diastolic parts).
    public static func all(pack: KnowledgePack) -> [ServiceDefinition] {
        let loinc = pack.features.definitions.flatMap(\.loinc)
        let codes = loinc.map { "http://loinc.org|\($0)" }.joined(separator: ",")
        let prefetch = [
            "patient": "Patient/{{context.patientId}}",
            "encounters": "Encounter?patient={{context.patientId}}",
            "observations": "Observation?patient={{context.patientId}}&combo-code=\(codes)",
            "conditions": "Condition?patient={{context.patientId}}",
            "medications": "MedicationRequest?patient={{context.patientId}}",
        ]
        let note = "Decision support only: the clinician decides. The treatment model was trained on synthetic data."
        let usage = "Prefetch is required (the service does not query fhirServer). Calls carry a JWT signed by a client registered in the service's trusted-clients file."
        return [
            ServiceDefinition(id: patientView, hook: "patient-view", title: "Rounds: glucose-lowering therapy for type 2 diabetes",
                              description: "Recommends one of \(pack.treatments.options.count) glucose-lowering options from the patient's record, with each option's ADA/KDIGO/label guideline status, the model's reasons (integrated gradients) and citations. \(note)",
                              prefetch: prefetch, usageRequirements: usage),
            ServiceDefinition(id: orderSelect, hook: "order-select", title: "Rounds: guideline check of a drafted glucose-lowering order",
                              description: "Checks the drafted medication against the patient's record: contraindicated, caution, indicated or already taking, with the rules and citations, and the model's recommendation beside it. \(note)",
                              prefetch: prefetch, usageRequirements: usage),
        ]
    }
}
