import Crypto
import Foundation

/// An audit entry as a FHIR R4 (4.0.1) AuditEvent: type (DICOM event code), subtype (Rounds'
/// event name), action, recorded, outcome, purposeOfEvent, agent (the clinician, or the
/// operating-system user, as requestor), source (Rounds as observer) and entity (the patient,
/// and the entry's place in the hash chain).
struct FHIRAuditEvent: Encodable {
    struct Coding: Encodable { var system: String; var code: String; var display: String? }
    struct CodeableConcept: Encodable { var coding: [Coding]?; var text: String? }
    struct Identifier: Encodable { var system: String; var value: String }
    struct Reference: Encodable { var reference: String?; var identifier: Identifier?; var display: String? }
    struct Agent: Encodable {
        var type: CodeableConcept?
        var role: [CodeableConcept]?
        var who: Reference
        var altId: String?
        var requestor: Bool
    }
    struct Source: Encodable { var site: String; var observer: Reference; var type: [Coding] }
    struct Detail: Encodable { var type: String; var valueString: String }
    struct Entity: Encodable {
        var what: Reference?
        var type: Coding?
        var role: Coding?
        var description: String?
        var detail: [Detail]?
    }

    var resourceType = "AuditEvent"
    var id: String
    var type: Coding
    var subtype: [Coding]
    var action: String
    var recorded: String
    var outcome: String
    var outcomeDesc: String?
    var purposeOfEvent: [CodeableConcept]
    var agent: [Agent]
    var source: Source
    var entity: [Entity]

    static let roundsSystem = "https://rounds.example/fhir/CodeSystem/audit-event"
    static let practitionerSystem = "https://rounds.example/fhir/NamingSystem/clinician"
    static let userSystem = "https://rounds.example/fhir/NamingSystem/os-user"

    /// A stable UUID for an entry, derived from its place and hash (name-based, RFC 4122 §4.3 style).
    static func uuid(seq: Int, hash: String) -> String {
        var b = Array(SHA256.hash(data: Data("rounds-audit \(seq) \(hash)".utf8)).prefix(16))
        b[6] = (b[6] & 0x0F) | 0x50
        b[8] = (b[8] & 0x3F) | 0x80
        let h = Digest.hex(b)
        let u = Array(h)
        return String(u[0..<8]) + "-" + String(u[8..<12]) + "-" + String(u[12..<16]) + "-" + String(u[16..<20]) + "-" + String(u[20..<32])
    }

    init(_ e: AuditEntry, hash: String) {
        id = Self.uuid(seq: e.seq, hash: hash)
        let dicom = e.event.dicom
        type = Coding(system: "http://dicom.nema.org/resources/ontology/DCM", code: dicom.code, display: dicom.display)
        subtype = [Coding(system: Self.roundsSystem, code: e.event.rawValue, display: nil)]
        action = e.action
        recorded = e.recorded
        outcome = String(e.outcome)
        outcomeDesc = e.outcome == 0 ? nil : e.detail["error"]
        purposeOfEvent = [CodeableConcept(coding: [Coding(system: "http://terminology.hl7.org/CodeSystem/v3-ActReason", code: "TREAT", display: "treatment")], text: nil)]
        let humanUser = CodeableConcept(coding: [Coding(system: "http://terminology.hl7.org/CodeSystem/extra-security-role-type", code: "humanuser", display: "human user")], text: nil)
        if let c = e.clinician {
            agent = [Agent(type: humanUser, role: e.role.map { [CodeableConcept(coding: nil, text: $0)] },
                           who: Reference(reference: nil, identifier: Identifier(system: Self.practitionerSystem, value: c), display: nil),
                           altId: e.user, requestor: true)]
        } else {
            agent = [Agent(type: humanUser, role: nil,
                           who: Reference(reference: nil, identifier: Identifier(system: Self.userSystem, value: e.user), display: nil),
                           altId: nil, requestor: true)]
        }
        source = Source(site: "Rounds", observer: Reference(reference: nil, identifier: nil, display: "Rounds decision-support shell"),
                        type: [Coding(system: "http://terminology.hl7.org/CodeSystem/security-source-type", code: "4", display: "Application Server")])
        var entities: [Entity] = []
        if let p = e.patient {
            entities.append(Entity(what: Reference(reference: "Patient/\(p)", identifier: nil, display: nil),
                                   type: Coding(system: "http://terminology.hl7.org/CodeSystem/audit-entity-type", code: "1", display: "Person"),
                                   role: Coding(system: "http://terminology.hl7.org/CodeSystem/object-role", code: "1", display: "Patient"),
                                   description: nil, detail: nil))
        }
        var details = e.detail.sorted { $0.key < $1.key }.map { Detail(type: $0.key, valueString: $0.value) }
        details.append(Detail(type: "session", valueString: e.session))
        details.append(Detail(type: "seq", valueString: String(e.seq)))
        details.append(Detail(type: "chain_hash", valueString: hash))
        entities.append(Entity(what: nil, type: Coding(system: "http://terminology.hl7.org/CodeSystem/audit-entity-type", code: "2", display: "System Object"),
                               role: nil, description: "Rounds audit entry \(e.seq): \(e.event.rawValue)", detail: details))
        entity = entities
    }
}

/// A decision as a CDS Hooks 2.0 Feedback API item: encoding (a) of the research notes, where
/// the card's single suggestion is the model's top treatment; an override carries the reason,
/// and the treatment chosen instead travels in an extension.
struct CDSHooksFeedback: Encodable {
    struct Suggestion: Encodable { var id: String }
    struct Reason: Encodable { var reason: Coding?; var userComment: String? }
    struct Coding: Encodable { var system: String; var code: String; var display: String }
    struct Extension: Encodable {
        var patient: String; var clinician: String; var role: String?; var chosen: String; var recommended: String
        var modelSha256: String; var probabilities: [String: Float]; var displayedOrder: [String]; var displayPolicy: String
        var reward: Double; var contraindicatedChoice: Bool; var note: String?
    }

    var card: String
    var outcome: String
    var acceptedSuggestions: [Suggestion]?
    var overrideReason: Reason?
    var outcomeTimestamp: String
    var `extension`: [String: Extension]

    init(_ d: DecisionRecord) {
        card = d.id
        outcome = d.outcome.rawValue
        if d.outcome == .accepted {
            acceptedSuggestions = [Suggestion(id: FHIRAuditEvent.uuid(seq: 0, hash: "suggestion " + d.id))]
        } else {
            overrideReason = Reason(reason: d.reason.map { Coding(system: $0.system, code: $0.systemCode, display: $0.display) }, userComment: d.note)
        }
        outcomeTimestamp = d.recordedAt
        `extension` = ["org.rounds.decision": Extension(
            patient: d.patient, clinician: d.clinician, role: d.role, chosen: d.chosen, recommended: d.recommended, modelSha256: d.modelSha256,
            probabilities: Dictionary(uniqueKeysWithValues: zip(d.treatments, d.probabilities)), displayedOrder: d.displayedOrder,
            displayPolicy: d.displayPolicy, reward: d.reward, contraindicatedChoice: d.contraindicatedChoice, note: d.note)]
    }
}
