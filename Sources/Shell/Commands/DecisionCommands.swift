import ArgumentParser
import Foundation
import Guidelines
import Patients
import Review
import Store

/// `accept [--note TEXT]`: the clinician takes the model's top treatment.
struct AcceptCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "accept",
        abstract: "Accept the model's recommendation (its top treatment) for the patient, and record the decision.",
        discussion: "Needs a signed-in clinician. If a guideline contraindicates the recommended treatment, it also needs --confirm and a --note saying why. The decision is stored (with the whole distribution shown) before the shell says it is recorded.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: PatientSelection
    @Option(help: ArgumentHelp("Free-text note stored with the decision.", valueName: "text")) var note: String?
    @Flag(help: "Confirm a choice that a guideline contraindicates (a --note is then required), or a decision on a patient outside the model's population.") var confirm = false
    @Flag(help: "Print the stored decision as JSON.") var json = false

    func run(in session: Session) throws {
        let decider = try Decider(session: session, selection: selection)
        let top = decider.analysis.treatments[decider.analysis.top].id
        try decider.record(chosen: top, reason: nil, note: note, confirm: confirm, json: json, out: session.out)
    }
}

/// `override TREATMENT --reason CODE [--note TEXT]`: the clinician chooses another treatment.
struct OverrideCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "override",
        abstract: "Override the model's recommendation with another treatment and a coded reason, and record the decision.",
        discussion: "Reasons are listed in Knowledge/override-reasons.yaml (Tab completes them; `override --help` lists them too via `reasons`). Choosing a contraindicated treatment needs --confirm and a --note.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The treatment chosen instead (id or name; Tab completes).", valueName: "treatment")) var treatment: String
    @Option(help: ArgumentHelp("Why (a code from Knowledge/override-reasons.yaml).", valueName: "code")) var reason: String
    @Option(help: ArgumentHelp("Free-text note stored with the decision.", valueName: "text")) var note: String?
    @Flag(help: "Confirm a choice that a guideline contraindicates (a --note is then required), or a decision on a patient outside the model's population.") var confirm = false
    @OptionGroup var selection: PatientSelection
    @Flag(help: "Print the stored decision as JSON.") var json = false

    func run(in session: Session) throws {
        let reasons = try session.overrideReasons()
        guard let r = reasons.reason(code: reason) else {
            let hint = Suggest.nearest(reason, in: reasons.codes).map { " Did you mean '\($0)'?" } ?? ""
            throw ValidationError("unknown override reason '\(reason)'.\(hint) Reasons: \(reasons.codes.joined(separator: ", "))")
        }
        let decider = try Decider(session: session, selection: selection)
        let chosen = decider.analysis.treatments[try decider.analysis.treatmentIndex(treatment)].id
        let top = decider.analysis.treatments[decider.analysis.top].id
        guard chosen != top else {
            throw ValidationError("\(chosen) is the model's recommendation: `accept` records taking it")
        }
        try decider.record(chosen: chosen, reason: r, note: note, confirm: confirm, json: json, out: session.out)
    }
}

/// The shell's decisions: the session's clinician and patient, and what it prints once the
/// review core has committed the decision.
extension Decider {
    init(session: Session, selection: PatientSelection) throws {
        try self.init(session: session, analysis: { try PatientAnalysis(session: session, selection: selection) })
    }

    init(session: Session, analysis: () throws -> PatientAnalysis) throws {
        guard session.context.clinician != nil else {
            throw ValidationError("no clinician signed in: decisions need one. `signin ID` (or --clinician ID, or ROUNDS_CLINICIAN)")
        }
        try self.init(workspace: session.workspace, reviewer: session.context.reviewer, analysis: analysis)
    }

    /// Commits the decision, then, and only then, says it is recorded.
    func record(chosen: String, reason: OverrideReasons.Reason?, note: String?, confirm: Bool, json: Bool, out: Output) throws {
        let stored = try commit(chosen: chosen, reason: reason, note: note, confirm: confirm)
        let a = analysis, d = stored.decision
        if json { try out.json(d); return }
        let name = a.treatments[a.treatments.firstIndex { $0.id == d.chosen }!].name
        let verb = d.outcome == .accepted ? "Accepted" : "Overrode \(a.treatments[a.top].name) with"
        out.print(out.bold("Recorded: \(verb) \(name)") + String(format: " (model probability %.1f%%)", 100 * d.probabilityOfChosen)
                  + " for \(d.patient), visit \(d.visit) (\(d.visitDate)), by \(d.clinician).")
        if let r = d.reason { out.print("Reason: \(r.display) [\(r.code)]" + (d.note.map { ". Note: \($0)" } ?? "")) }
        else if let n = d.note { out.print("Note: \(n)") }
        if d.contraindicatedChoice { out.print(out.red(out.bold("⚠ Flagged in the record: \(name) is contraindicated by a guideline; the clinician confirmed it."))) }
        out.print(out.dim("Decision \(d.id) · audit entry #\(stored.audit.seq) · reward \(String(format: "%+.1f", d.reward)) (\(d.rewardRule)) · `history` lists this patient's decisions."))
    }
}

/// `history`: a patient's recorded decisions.
struct HistoryCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "The decisions recorded for the patient: when, by whom, what the model recommended and what was chosen, and why.")

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The patient (default: the one loaded).", valueName: "id")) var patient: String?
    @Flag(help: "Print as JSON (the full decision records).") var json = false

    func run(in session: Session) throws {
        let record = try patient.map { try session.load($0) } ?? session.requirePatient()
        let decisions = try session.store.decisions(patient: record.id)
        try session.audit(.historyShown, patient: record.id, detail: ["decisions": String(decisions.count)])
        if json { try session.out.json(decisions); return }
        let out = session.out
        out.print(out.bold("Decisions · \(record.id)") + (record.origin == .synthetic ? out.dim(" (synthetic patient)") : ""))
        guard !decisions.isEmpty else { out.print("No decisions recorded for \(record.id) yet (`accept` or `override` records one)."); return }
        let rows = decisions.map { d -> [String] in
            [String(d.recordedAt.prefix(16)).replacingOccurrences(of: "T", with: " "), d.clinician + (d.role.map { " (\($0))" } ?? ""),
             "\(d.visit) \(d.visitDate)", d.recommended, d.outcome.rawValue, d.chosen + (d.contraindicatedChoice ? " ⚠" : ""),
             String(format: "%.1f%%", 100 * d.probabilityOfChosen), d.reason?.code ?? "", String(format: "%+.1f", d.reward), String(d.modelSha256.prefix(8))]
        }
        out.print(Table(headers: ["recorded (UTC)", "clinician", "visit", "recommended", "outcome", "chosen", "p(chosen)", "reason", "reward", "model"],
                        rows: rows, rightAligned: [6, 8]).render(width: out.width))
        for d in decisions where d.note != nil { out.print(out.dim("\(d.recordedAt.prefix(16)) note: \(d.note!)")) }
    }
}
