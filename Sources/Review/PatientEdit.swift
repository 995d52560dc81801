import Foundation
import Guidelines
import Patients

/// A what-if: the patient with some facts changed at the index visit (`egfr=24`,
/// `heart_failure=yes`). The shell's `whatif` and the case report both edit through here, so
/// they show the same edited copy. The stored record is never changed.
public enum PatientEdit {
    /// The record with each change applied at visit `index` (0-based). A lab or vital is taken as
    /// measured at the index visit, in the pack's unit; a condition is set on or off.
    public static func apply(_ changes: [String], to record: PatientRecord, at index: Int, pack: KnowledgePack) throws -> PatientRecord {
        var r = record
        let date = r.visits[index].date
        for change in changes {
            let parts = change.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw ReviewError("'\(change)' is not FEATURE=VALUE") }
            let (name, value) = (parts[0].lowercased(), parts[1])
            guard let def = pack.features.definition(id: name), [.lab, .vital, .condition].contains(def.kind) else {
                let known = pack.features.measured.map(\.id) + pack.features.conditions.map(\.id)
                throw ReviewError("unknown feature '\(name)'." + (Suggest.nearest(name, in: known).map { " Did you mean '\($0)'?" } ?? "") + " Known: \(known.joined(separator: ", "))")
            }
            if def.kind == .condition {
                guard let on = ["yes": true, "true": true, "1": true, "no": false, "false": false, "0": false][value.lowercased()] else {
                    throw ReviewError("\(name) takes yes or no, not '\(value)'")
                }
                if on {
                    guard let code = def.snomed.first else { throw ReviewError("\(name) has no SNOMED code to add") }
                    r.conditions.append(ConditionEntry(code: code, display: def.name + " (what-if)", onset: date.addingTimeInterval(-1)))
                } else {
                    r.conditions = r.conditions.map { c in
                        guard pack.features.conditionFeature(code: c.code, display: c.display)?.0.id == name, c.isActive(at: date) || (def.history && c.onset <= date) else { return c }
                        var c = c; c.abatement = c.onset; return c
                    }
                    if def.derived != nil { throw ReviewError("\(name)=no: \(name) is also derived from values; change them instead (e.g. egfr=75)") }
                }
                continue
            }
            guard let v = Double(value), v.isFinite else { throw ReviewError("\(name) needs a number in \(def.unit ?? "its unit"), not '\(value)'") }
            if let range = def.range, !range.contains(v) {
                throw ReviewError("\(name)=\(value) is outside the plausible range \(range.lowerBound)–\(range.upperBound) \(def.unit ?? "")")
            }
            r.visits[index].observations.append(Observation(code: def.loinc.first ?? name, display: def.name + " (what-if)", value: v, unit: def.unit ?? "", time: date))
        }
        return r
    }
}

/// A patient as recorded beside an edited copy (`PatientEdit`), both through the model and the
/// rules, with what now drives the edited copy's first choice: what `whatif` prints and what
/// the case report's what-if section shows.
public struct WhatIf: @unchecked Sendable {
    public let changes: [String]
    public let before: PatientAnalysis
    public let after: PatientAnalysis
    /// Integrated gradients of the edited copy's first choice.
    public let explanation: Explanation

    /// The changes are made at the model's last visit on or before the review date.
    public init(workspace: Workspace, record: PatientRecord, review: ReviewPoint, changes: [String]) throws {
        guard let index = review.visit else { throw ReviewError("\(record.id) has no visit with model features on or before \(review.day)") }
        let edited = try PatientEdit.apply(changes, to: record, at: index, pack: workspace.pack)
        self.changes = changes
        before = try PatientAnalysis(workspace: workspace, record: record, review: review)
        after = try PatientAnalysis(workspace: workspace, record: edited, review: review)
        explanation = Explanation(after)
    }

    /// Rules that fire in the edited copy and did not as recorded.
    public var nowFiring: [Finding] {
        let was = Set(before.guidelines.firedRules)
        return after.guidelines.findings.filter { $0.status == .fired && !was.contains($0.rule) }
    }
    /// Rules that fired as recorded and no longer do.
    public var noLongerFiring: [Finding] {
        let now = Set(after.guidelines.firedRules)
        return before.guidelines.findings.filter { $0.status == .fired && !now.contains($0.rule) }
    }
    /// The `n` features with the largest total attribution to the edited copy's first choice.
    public func strongestFeatures(_ n: Int) -> [(feature: String, attribution: Double)] {
        let by = explanation.byFeature
        return by.indices.sorted { abs(by[$0]) > abs(by[$1]) }.prefix(n).map { (after.model.file.features[$0], by[$0]) }
    }
}
