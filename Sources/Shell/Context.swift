import ArgumentParser
import Foundation
import Patients
import Review
import Store
import TreatmentModel
import Cohort

/// Options every command takes: where the store and the knowledge pack are.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store (SQLite file). Default: $ROUNDS_DB, else ~/.rounds/rounds.sqlite.", valueName: "path"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("The knowledge pack folder. Default: $ROUNDS_KNOWLEDGE, else the Knowledge folder of this checkout.", valueName: "path"))
    var knowledge: String?

    @Flag(name: .long, help: "Do not generate the synthetic demo cohort into an empty store.")
    var noDemo = false

    @Option(name: .long, help: ArgumentHelp("Sign in as this clinician (default: $ROUNDS_CLINICIAN). Decisions need one.", valueName: "id"))
    var clinician: String?

    @Option(name: .long, help: ArgumentHelp("The signed-in clinician's role (default: $ROUNDS_ROLE, else clinician).", valueName: "role"))
    var role: String?

    @Flag(name: .long, help: "Never page long output (also ROUNDS_NO_PAGER=1; ROUNDS_PAGER or PAGER choose the pager, default less -FRX).")
    var noPager = false

    public init() {}
}

/// What a command works with: the review core's workspace (knowledge pack, open store, model),
/// who is at the keyboard, and the terminal. Everything that touches a patient's data goes into
/// the audit log through `audit`.
final class Context {
    let workspace: Workspace
    var pack: KnowledgePack { workspace.pack }
    var store: RoundsStore { workspace.store }
    let out: Output
    /// The signed-in clinician and their role, the operating-system user and this process's
    /// session, named in every audit entry and decision.
    private(set) var reviewer: Reviewer
    var sessionID: String { reviewer.sessionID }
    var clinician: String? { reviewer.clinician }
    var role: String? { reviewer.role }
    var user: String { reviewer.user }
    /// SHA-256 of the knowledge pack's files, computed once (see `Workspace.knowledgeDigest`).
    var knowledgeSha256: String { workspace.knowledgeSha256 }

    /// Opens the pack and the store. With `seedDemo`, an empty store first gets the demo cohort.
    init(_ options: GlobalOptions, seedDemo: Bool = true, out: Output = Output()) throws {
        self.out = out
        let env = ProcessInfo.processInfo.environment
        do {
            let pack = try KnowledgePack(directory: KnowledgePack.locate(explicit: options.knowledge))
            let user = env["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? NSUserName()
            let clinician = options.clinician ?? env["ROUNDS_CLINICIAN"].flatMap({ $0.isEmpty ? nil : $0 })
            reviewer = try Reviewer(clinician: clinician, role: options.role ?? env["ROUNDS_ROLE"].flatMap { $0.isEmpty ? nil : $0 }, user: user)
            let store = try RoundsStore(path: RoundsStore.resolvePath(explicit: options.db))
            workspace = Workspace(pack: pack, store: store)
        } catch let e as KnowledgeError {
            throw ValidationError(e.description)
        } catch let e as StoreError {
            throw ValidationError(e.description)
        } catch let e as ReviewError {
            throw ValidationError(e.message)
        }
        let path = RoundsStore.resolvePath(explicit: options.db)
        let noDemo = options.noDemo || env["ROUNDS_NO_DEMO"] == "1"
        if try seedDemo && !noDemo && store.patientCount() == 0 {
            out.note("The store at \(path) is empty: generating the synthetic demo cohort (\(CohortGenerator.defaultSize) patients, seed \(CohortGenerator.defaultSeed)).")
            let t = try generateCohort(size: CohortGenerator.defaultSize, seed: CohortGenerator.defaultSeed)
            out.note(String(format: "Generated %d synthetic patients in %.2f s. They are not real people.", CohortGenerator.defaultSize, t))
        }
    }
}

extension Context {
    /// Writes a synthetic cohort into the store (replacing the synthetic patients) and audits it;
    /// returns the seconds it took.
    @discardableResult
    func generateCohort(size: Int, seed: UInt64, progress: ((Int) -> Void)? = nil) throws -> Double {
        do { return try workspace.generateCohort(size: size, seed: seed, by: reviewer, progress: progress) } catch let e as ReviewError {
            throw ValidationError(e.message)
        }
    }

    /// Appends an event to the audit log. An event that cannot be logged is an error: what it
    /// would have shown is not shown.
    func audit(_ event: AuditEvent, action: String = "R", patient: String? = nil, outcome: Int = 0, detail: [String: String] = [:]) throws {
        do { try workspace.audit(entry(event, action: action, patient: patient, outcome: outcome, detail: detail)) } catch let e as ReviewError {
            throw ValidationError(e.message)
        }
    }

    /// An audit entry for this session (not yet in the log).
    func entry(_ event: AuditEvent, action: String = "R", patient: String? = nil, outcome: Int = 0, detail: [String: String] = [:]) -> AuditEntry {
        reviewer.entry(event, action: action, patient: patient, outcome: outcome, detail: detail)
    }

    /// Signs a clinician in (or, with nil, out), and logs it.
    func signIn(_ id: String?, role: String?) throws {
        if let id { try Self.checkClinician(id) }
        let previous = clinician
        if id == nil, let previous { try audit(.signOut, action: "E", detail: ["clinician": previous]) }
        reviewer.clinician = id
        reviewer.role = id == nil ? nil : (role ?? "clinician")
        if id != nil { try audit(.signIn, action: "E") }
    }

    /// A clinician id is one word of letters, digits and `.-_@`, at most 64 characters.
    static func checkClinician(_ id: String) throws {
        do { try Reviewer.checkClinician(id) } catch let e as ReviewError { throw ValidationError(e.message) }
    }
}
