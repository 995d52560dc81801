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

    /// The canonical text the chain hashes: the JSON that `JSONEncoder` with sorted keys and
    /// unescaped slashes writes (a test holds the two equal), written by hand because appends
    /// and exports spend most of their time here.
    public func canonical() throws -> String {
        var w = CanonicalJSON.Writer()
        w.key("action", first: true); w.string(action)
        if let clinician { w.key("clinician"); w.string(clinician) }
        w.key("detail"); w.object(detail)
        w.key("event"); w.string(event.rawValue)
        w.key("outcome"); w.int(outcome)
        if let patient { w.key("patient"); w.string(patient) }
        w.key("recorded"); w.string(recorded)
        if let role { w.key("role"); w.string(role) }
        w.key("seq"); w.int(seq)
        w.key("session"); w.string(session)
        w.key("user"); w.string(user)
        return w.finish()
    }

    public static func parse(_ canonical: String) throws -> AuditEntry {
        if let e = fastParse(canonical) { return e }
        return try JSONDecoder().decode(AuditEntry.self, from: Data(canonical.utf8))
    }

    /// The common case without Foundation's decoder; nil for anything unusual.
    static func fastParse(_ text: String) -> AuditEntry? {
        guard let o = FlatJSON.parse(text) else { return nil }
        func string(_ k: String) -> String?? {
            switch o[k] { case .string(let s)?: return .some(s); case nil, .null?: return .some(nil); default: return nil }
        }
        guard case .int(let seq)? = o["seq"], case .int(let outcome)? = o["outcome"], case .object(let detail)? = o["detail"],
              case .string(let recorded)? = o["recorded"], case .string(let event)? = o["event"], let ev = AuditEvent(rawValue: event),
              case .string(let action)? = o["action"], case .string(let user)? = o["user"], case .string(let session)? = o["session"],
              let clinician = string("clinician"), let role = string("role"), let patient = string("patient"), o.count <= 11 else { return nil }
        return AuditEntry(seq: seq, recorded: recorded, event: ev, action: action, outcome: outcome, clinician: clinician, role: role,
                          user: user, patient: patient, session: session, detail: detail)
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
    case auditProved = "audit.proved"
    /// The CDS Hooks service: started, cards served for a hook call, a request refused (bad or missing client token).
    case serviceStarted = "cds.service.started"
    case cardsServed = "cds.cards.served"
    case requestRefused = "cds.request.refused"
    /// A case report (HTML) written: a disclosure of the patient's record outside Rounds.
    case reportMade = "report.made"

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
        case .auditVerified, .auditProved: return ("110101", "Audit Log Used")
        case .serviceStarted: return ("110100", "Application Activity")
        case .cardsServed: return ("110110", "Patient Record")
        case .requestRefused: return ("110113", "Security Alert")
        case .reportMade: return ("110106", "Export")
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

    /// Writes one JSON object the way `encoder` does: `"` and `\\` escaped, \b \f \n \r \t,
    /// other control characters as \u00XX, everything else (slashes, non-ASCII) as is.
    struct Writer {
        private var bytes: [UInt8] = [UInt8(ascii: "{")]

        mutating func key(_ k: String, first: Bool = false) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            string(k)
            bytes.append(UInt8(ascii: ":"))
        }

        mutating func int(_ v: Int) { bytes.append(contentsOf: String(v).utf8) }

        mutating func string(_ s: String) {
            bytes.append(34)
            for b in s.utf8 {
                switch b {
                case 34: bytes += [92, 34]
                case 92: bytes += [92, 92]
                case 8: bytes += [92, 98]
                case 12: bytes += [92, 102]
                case 10: bytes += [92, 110]
                case 13: bytes += [92, 114]
                case 9: bytes += [92, 116]
                case 0..<32:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes += [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]]
                default: bytes.append(b)
                }
            }
            bytes.append(34)
        }

        mutating func object(_ d: [String: String]) {
            bytes.append(UInt8(ascii: "{"))
            for (i, k) in d.keys.sorted().enumerated() {
                key(k, first: i == 0)
                string(d[k]!)
            }
            bytes.append(UInt8(ascii: "}"))
        }

        mutating func finish() -> String {
            bytes.append(UInt8(ascii: "}"))
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
