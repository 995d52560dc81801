import ArgumentParser
import Foundation
import Guidelines
import Patients
import Store
import TreatmentModel

/// What a shell session holds between commands: the knowledge pack, the store, the loaded
/// patient. A command run from the system shell gets a session of its own.
final class Session {
    let context: Context
    var out: Output { context.out }
    var pack: KnowledgePack { context.pack }
    var store: RoundsStore { context.store }
    /// The patient under review.
    var patient: PatientRecord?
    /// True inside the interactive shell.
    let interactive: Bool

    init(context: Context, interactive: Bool) {
        self.context = context
        self.interactive = interactive
    }

    private var cachedModel: DefaultModel.Loaded?
    private var cachedRules: RuleBook?
    private var cachedReasons: OverrideReasons?

    /// The coded override reasons, loaded once.
    func overrideReasons() throws -> OverrideReasons {
        if let r = cachedReasons { return r }
        do {
            let r = try OverrideReasons.load(from: pack.directory)
            cachedReasons = r
            return r
        } catch let e as KnowledgeError { throw ValidationError(e.description) }
    }

    /// Logs an event of this session (see `Context.audit`).
    func audit(_ event: AuditEvent, action: String = "R", patient: String? = nil, outcome: Int = 0, detail: [String: String] = [:]) throws {
        try context.audit(event, action: action, patient: patient, outcome: outcome, detail: detail)
    }

    /// The treatment model in use (the store's active learned version, else the pack's default), loaded once.
    func model() throws -> DefaultModel.Loaded {
        if let m = cachedModel { return m }
        let m = try DefaultModel.inUse(store: store, pack: pack)
        cachedModel = m
        return m
    }

    /// Forgets the loaded model, so the next view loads the one now in use.
    func modelChanged() { cachedModel = nil }

    /// The guideline rules, loaded once; a broken rule file is an error that names it.
    func rules() throws -> RuleBook {
        if let r = cachedRules { return r }
        do {
            let r = try RuleBook(pack: pack)
            cachedRules = r
            return r
        } catch let e as RuleBook.Problems { throw ValidationError("the guideline files are broken (`rounds guidelines lint`):\n" + e.description) }
    }

    /// The loaded patient, or an error that says how to load one.
    func requirePatient() throws -> PatientRecord {
        guard let p = patient else { throw ValidationError("no patient loaded: `load ID` first (`patients` lists them)") }
        return p
    }

    /// Loads a patient by id (an access to health data, so it is audited); an unknown id gets
    /// the nearest known ones suggested.
    func load(_ id: String) throws -> PatientRecord {
        if let p = try store.patient(id: id) {
            try audit(.patientOpened, patient: p.id)
            patient = p
            return p
        }
        let ids = try store.patientIDs()
        let hint = Suggest.nearest(id, in: ids).map { " Did you mean '\($0)'?" } ?? ""
        throw ValidationError("no patient '\(id)' in the store.\(hint)")
    }
}

/// A command that works inside a session (the interactive shell), and from the system shell
/// by opening a session of its own.
protocol SessionCommand: ParsableCommand {
    var global: GlobalOptions { get }
    func run(in session: Session) throws
    /// Whether, run from the system shell on an empty store, it first generates the demo cohort
    /// (the commands that look at patients do; those about the model alone do not).
    static var needsPatients: Bool { get }
}

extension SessionCommand {
    static var needsPatients: Bool { true }

    func run() throws { try runInOwnSession() }

    /// Opens the pack and store (seeding an empty store only when `needsPatients`) and runs;
    /// at the end, like an interactive session, it signs a checkpoint of what it logged.
    func runInOwnSession() throws {
        let session = try Session(context: Context(global, seedDemo: Self.needsPatients), interactive: false)
        defer { try? session.store.writeCheckpoint(reason: "session.end") }
        try run(in: session)
    }
}
