import Foundation

/// One event in the audit log, as the chain hashes it. Its canonical form is JSON with sorted
/// keys and no whitespace, written once when the entry is appended and stored as text, so a
/// verifier needs no JSON library of ours: it hashes the stored bytes.
public struct AuditEntry: Codable, Sendable, Equatable {
    /// Position in the chain, from 0, no gaps.
    public var seq: Int
    /// RFC 3339 UTC with milliseconds.
    public var recorded: String
    public var event: AuditEvent
    /// FHIR AuditEvent.action: C create, R read, U update, D delete, E execute.
    public var action: String
    /// FHIR AuditEvent.outcome: 0 success, 4 minor failure, 8 serious failure, 12 major failure.
    public var outcome: Int
    /// The signed-in clinician, if any.
    public var clinician: String?
    public var role: String?
    /// The operating-system user running Rounds.
    public var user: String
    public var patient: String?
    public var session: String
    /// Event-specific facts, as strings (FHIR entity.detail carries strings too).
    public var detail: [String: String]

    public init(seq: Int = 0, recorded: String = "", event: AuditEvent, action: String, outcome: Int = 0, clinician: String?, role: String?,
                user: String, patient: String?, session: String, detail: [String: String] = [:]) {
        self.seq = seq; self.recorded = recorded; self.event = event; self.action = action; self.outcome = outcome
        self.clinician = clinician; self.role = role; self.user = user; self.patient = patient; self.session = session; self.detail = detail
    }

    /// The canonical text the chain hashes.
    public func canonical() throws -> String { try CanonicalJSON.string(self) }

    public static func parse(_ canonical: String) throws -> AuditEntry {
        try JSONDecoder().decode(AuditEntry.self, from: Data(canonical.utf8))
    }
}

/// What happened. Each maps onto a DICOM audit event type for the FHIR export.
public enum AuditEvent: String, Codable, Sendable, CaseIterable {
    case sessionStart = "session.start"
    case sessionEnd = "session.end"
    case signIn = "signin"
    case signOut = "signout"
    case patientOpened = "patient.opened"
    case recommendationShown = "recommendation.shown"
    case explanationShown = "explanation.shown"
    case attentionShown = "attention.shown"
    case guidelinesShown = "guidelines.shown"
    case whatIf = "whatif.shown"
    case decisionRecorded = "decision.recorded"
    case decisionRefused = "decision.refused"
    case historyShown = "history.shown"
    case patientsImported = "patients.imported"
    case cohortGenerated = "cohort.generated"
    case modelTrained = "model.trained"
    case modelActivated = "model.activated"
    case auditExported = "audit.exported"
    case auditVerified = "audit.verified"

    /// DICOM (http://dicom.nema.org/resources/ontology/DCM) event type code and display.
    public var dicom: (code: String, display: String) {
        switch self {
        case .sessionStart, .sessionEnd: return ("110100", "Application Activity")
        case .signIn, .signOut: return ("110114", "User Authentication")
        case .patientOpened, .recommendationShown, .explanationShown, .attentionShown, .guidelinesShown, .whatIf,
             .decisionRecorded, .decisionRefused, .historyShown: return ("110110", "Patient Record")
        case .patientsImported, .cohortGenerated: return ("110107", "Import")
        case .modelTrained, .modelActivated: return ("110100", "Application Activity")
        case .auditExported: return ("110101", "Audit Log Used")
        case .auditVerified: return ("110101", "Audit Log Used")
        }
    }
}

/// JSON with sorted keys, no whitespace and unescaped slashes: the one form Rounds hashes and stores.
enum CanonicalJSON {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func string<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
}
