import ArgumentParser
import Explanations
import Foundation
import Guidelines
import Patients
import Review

/// `whatif egfr=24 hba1c=9.5`: the patient with some facts changed, beside the patient as recorded.
struct WhatIfCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "whatif",
        abstract: "Re-run the model, the guideline checks and the explanation on an edited copy of the patient, beside the original.",
        discussion: """
        Each change is FEATURE=VALUE: a lab or vital in the pack's unit (egfr=24, hba1c=9.5, bmi=32), taken as measured at
        the index visit; or a condition set on or off (heart_failure=yes, ckd=no). The stored record never changes.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: PatientSelection
    @Argument(help: ArgumentHelp("Changes, e.g. egfr=24 hba1c=9.5 heart_failure=yes.", valueName: "feature=value")) var changes: [String]
    @Flag(help: "Print as JSON.") var json = false

    /// `statuses` is each option's worst finding; `standings` its indication beside its caution, as shown.
    struct Side: Encodable { var probabilities: [String: Float]; var statuses: [String: GuidelineStatus]; var standings: [String: Standing]; var top: String; var rules: [String] }
    struct JSONView: Encodable { var patient: String; var changes: [String]; var original: Side; var edited: Side; var notice: ModelNotice }

    func run(in session: Session) throws {
        let record = try selection.record(in: session)
        let review = try selection.review(for: record, in: session)
        _ = try PatientSelection.modelVisit(record, review)
        let w = try WhatIf(workspace: session.workspace, record: record, review: review, changes: changes)
        let before = w.before, after = w.after
        try before.audit(session, .whatIf, detail: ["changes": changes.joined(separator: " "), "edited_top": after.treatments[after.top].id])
        func side(_ a: PatientAnalysis) -> Side {
            Side(probabilities: Dictionary(uniqueKeysWithValues: a.treatments.indices.map { (a.treatments[$0].id, a.probabilities[$0]) }),
                 statuses: a.guidelines.statuses, standings: a.guidelines.standings, top: a.treatments[a.top].id,
                 rules: a.guidelines.firedRules)
        }
        if json { try session.out.json(JSONView(patient: record.id, changes: changes, original: side(before), edited: side(after), notice: after.notice)); return }
        let out = session.out
        after.header(out, "What if \(changes.joined(separator: ", "))")
        out.print(out.dim("An edited copy: the stored record is unchanged."))
        after.warnIfTopContraindicated(out)
        let order = after.probabilities.indices.sorted { after.probabilities[$0] > after.probabilities[$1] }
        // One status column, the edited copy's, with the recorded one beside it only where it
        // differs: two full standings side by side do not fit a terminal, and a cut one could
        // hide a contraindication.
        out.print(Table(headers: ["TREATMENT", "AS RECORDED", "WHAT IF", "CHANGE", "GUIDELINES WHAT IF (AS RECORDED)"], rows: order.map { k in
            let now = after.statusText(out, k), was = before.standing(k).label == after.standing(k).label ? "" : "  (was " + before.statusText(out, k) + ")"
            return [after.treatments[k].name, String(format: "%.1f%%", 100 * before.probabilities[k]), String(format: "%.1f%%", 100 * after.probabilities[k]),
                    String(format: "%+.1f", 100 * (after.probabilities[k] - before.probabilities[k])), now + was]
        }, rightAligned: [1, 2, 3]).render(width: out.width))
        for f in w.nowFiring { out.print(out.yellow("+ now fires: ") + "\(f.rule): \(f.message)") }
        for f in w.noLongerFiring { out.print(out.dim("− no longer fires: \(f.rule)")) }
        if before.top != after.top { out.print(out.bold("The model's first choice moves from \(before.treatments[before.top].name) to \(after.treatments[after.top].name).")) }
        // What now drives the first choice.
        out.print("Strongest features behind \(after.treatments[after.top].name) in the edited copy: "
                  + w.strongestFeatures(5).map { String(format: "%@ %+.3f", $0.feature, $0.attribution) }.joined(separator: ", ")
                  + String(format: " (delta %+.1e)", w.explanation.result.delta))
    }
}
