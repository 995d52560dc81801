import ArgumentParser
import Foundation
import Guidelines
import Patients
import Review
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
    /// Long views go through it on a terminal (`Pager`); `--no-pager` turns it off.
    var pager = Pager()
    /// The review date `load ID --as-of DATE` set for that patient: their views default to it.
    var reviewAsOf: (patient: String, date: String)?

    init(context: Context, interactive: Bool) {
        self.context = context
        self.interactive = interactive
    }

    /// The review core's workspace: pack, store, and the model, rules and reasons loaded once.
    var workspace: Workspace { context.workspace }

    /// The coded override reasons, loaded once.
    func overrideReasons() throws -> OverrideReasons { try workspace.overrideReasons() }

    /// Logs an event of this session (see `Context.audit`).
    func audit(_ event: AuditEvent, action: String = "R", patient: String? = nil, outcome: Int = 0, detail: [String: String] = [:]) throws {
        try context.audit(event, action: action, patient: patient, outcome: outcome, detail: detail)
    }

    /// The treatment model in use (the store's active learned version, else the pack's default), loaded once.
    func model() throws -> DefaultModel.Loaded { try workspace.model() }

    /// Forgets the loaded model, so the next view loads the one now in use.
    func modelChanged() { workspace.modelChanged() }

    /// The guideline rules, loaded once; a broken rule file is an error that names it.
    func rules() throws -> RuleBook { try workspace.rules() }

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
    /// a long view goes through the pager on a terminal; at the end, like an interactive
    /// session, it signs a checkpoint of what it logged. The review core's errors are reported
    /// as the command's own (message and usage).
    func runInOwnSession() throws {
        do {
            let session = Session(context: try Context(global, seedDemo: Self.needsPatients), interactive: false)
            defer { try? session.store.writeCheckpoint(reason: "session.end") }
            if global.noPager { session.pager = Pager(disabled: true) }
            guard PagedCommands.pages(self) else { try run(in: session); return }
            try session.pager.page { try run(in: session) }
        } catch let e as ReviewError {
            throw ValidationError(e.message)
        }
    }
}

/// The views whose output can run to many screens (psql and git page theirs): the patient list,
/// a whole timeline, the audit log, the history, the guideline findings, an explanation.
enum PagedCommands {
    static let types: [any ParsableCommand.Type] = [PatientsCommand.self, SummaryCommand.self, AuditCommand.Show.self,
                                                    HistoryCommand.self, GuidelinesCommand.Check.self, ExplainCommand.self]
    static func pages(_ command: any ParsableCommand) -> Bool {
        types.contains { $0 == type(of: command) }
    }
}
