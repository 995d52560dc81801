import Foundation
import Store

/// Who is reviewing: the clinician (if one is signed in) and their role, the operating-system
/// user or service client acting for them, and the session. Every audit entry and decision names
/// them. A value, so that each service request can carry its own while the shell keeps one and
/// changes it on `signin`.
public struct Reviewer: Sendable {
    public var clinician: String?
    public var role: String?
    /// The operating-system user (shell) or the trusted client (service).
    public var user: String
    /// This session, named in every audit entry and decision.
    public var sessionID: String

    public init(clinician: String?, role: String?, user: String, sessionID: String = UUID().uuidString.lowercased()) throws {
        if let clinician { try Self.checkClinician(clinician) }
        self.clinician = clinician
        self.role = clinician == nil ? nil : (role ?? "clinician")
        self.user = user
        self.sessionID = sessionID
    }

    /// An audit entry for this reviewer (not yet in the log).
    public func entry(_ event: AuditEvent, action: String = "R", patient: String? = nil, outcome: Int = 0, detail: [String: String] = [:]) -> AuditEntry {
        AuditEntry(event: event, action: action, outcome: outcome, clinician: clinician, role: clinician == nil ? nil : role, user: user,
                   patient: patient, session: sessionID, detail: detail)
    }

    /// A clinician id is one word of letters, digits and `.-_@`, at most 64 characters.
    public static func checkClinician(_ id: String) throws {
        let ok = !id.isEmpty && id.count <= 64 && id.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "._-@".unicodeScalars.contains($0) }
        guard ok else { throw ReviewError("'\(id)' is not a clinician id: one word of letters, digits and . - _ @, at most 64 characters") }
    }
}
