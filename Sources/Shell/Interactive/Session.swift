import ArgumentParser
import Foundation
import Patients
import Store

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

    /// The loaded patient, or an error that says how to load one.
    func requirePatient() throws -> PatientRecord {
        guard let p = patient else { throw ValidationError("no patient loaded: `load ID` first (`patients` lists them)") }
        return p
    }

    /// Loads a patient by id; an unknown id gets the nearest known ones suggested.
    func load(_ id: String) throws -> PatientRecord {
        if let p = try store.patient(id: id) { patient = p; return p }
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
}

extension SessionCommand {
    func run() throws {
        try run(in: Session(context: Context(global), interactive: false))
    }
}
