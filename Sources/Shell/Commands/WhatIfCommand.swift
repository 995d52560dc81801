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
        let index = try PatientSelection.modelVisit(record, review)
        let edited = try Self.apply(changes, to: record, at: index, pack: session.pack)
        let before = try PatientAnalysis(session: session, record: record, review: review)
        let after = try PatientAnalysis(session: session, record: edited, review: review)
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
        let was = Set(before.guidelines.firedRules), now = Set(after.guidelines.firedRules)
        for f in after.guidelines.findings where f.status == .fired && !was.contains(f.rule) { out.print(out.yellow("+ now fires: ") + "\(f.rule): \(f.message)") }
        for f in before.guidelines.findings where f.status == .fired && !now.contains(f.rule) { out.print(out.dim("− no longer fires: \(f.rule)")) }
        if before.top != after.top { out.print(out.bold("The model's first choice moves from \(before.treatments[before.top].name) to \(after.treatments[after.top].name).")) }
        // What now drives the first choice.
        let ig = IntegratedGradients(model: after.model.file.model).attribute(after.input, target: after.top)
        let F = after.model.file.model.shape.features
        var byFeature = [Double](repeating: 0, count: F)
        for c in ig.attributions.indices { byFeature[c % F] += ig.attributions[c] }
        let strongest = byFeature.indices.sorted { abs(byFeature[$0]) > abs(byFeature[$1]) }.prefix(5)
        out.print("Strongest features behind \(after.treatments[after.top].name) in the edited copy: "
                  + strongest.map { String(format: "%@ %+.3f", after.model.file.features[$0], byFeature[$0]) }.joined(separator: ", ")
                  + String(format: " (delta %+.1e)", ig.delta))
    }

    /// The record with each change applied at the index visit.
    static func apply(_ changes: [String], to record: PatientRecord, at index: Int, pack: KnowledgePack) throws -> PatientRecord {
        var r = record
        let date = r.visits[index].date
        for change in changes {
            let parts = change.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw ValidationError("'\(change)' is not FEATURE=VALUE") }
            let (name, value) = (parts[0].lowercased(), parts[1])
            guard let def = pack.features.definition(id: name), [.lab, .vital, .condition].contains(def.kind) else {
                let known = pack.features.measured.map(\.id) + pack.features.conditions.map(\.id)
                throw ValidationError("unknown feature '\(name)'." + (Suggest.nearest(name, in: known).map { " Did you mean '\($0)'?" } ?? "") + " Known: \(known.joined(separator: ", "))")
            }
            if def.kind == .condition {
                guard let on = ["yes": true, "true": true, "1": true, "no": false, "false": false, "0": false][value.lowercased()] else {
                    throw ValidationError("\(name) takes yes or no, not '\(value)'")
                }
                if on {
                    guard let code = def.snomed.first else { throw ValidationError("\(name) has no SNOMED code to add") }
                    r.conditions.append(ConditionEntry(code: code, display: def.name + " (what-if)", onset: date.addingTimeInterval(-1)))
                } else {
                    r.conditions = r.conditions.map { c in
                        guard pack.features.conditionFeature(code: c.code, display: c.display)?.0.id == name, c.isActive(at: date) || (def.history && c.onset <= date) else { return c }
                        var c = c; c.abatement = c.onset; return c
                    }
                    if def.derived != nil { throw ValidationError("\(name)=no: \(name) is also derived from values; change them instead (e.g. egfr=75)") }
                }
                continue
            }
            guard let v = Double(value), v.isFinite else { throw ValidationError("\(name) needs a number in \(def.unit ?? "its unit"), not '\(value)'") }
            if let range = def.range, !range.contains(v) {
                throw ValidationError("\(name)=\(value) is outside the plausible range \(range.lowerBound)–\(range.upperBound) \(def.unit ?? "")")
            }
            r.visits[index].observations.append(Observation(code: def.loinc.first ?? name, display: def.name + " (what-if)", value: v, unit: def.unit ?? "", time: date))
        }
        return r
    }
}
