import Foundation
import Guidelines
import Patients
import Store

/// Turns the analysis the clinician saw into a decision record and commits it, with its audit
/// entry, before any front end says it was recorded. The shell's `accept`/`override` and the
/// service's feedback both decide through it.
public struct Decider {
    public let workspace: Workspace
    public let reviewer: Reviewer
    public let analysis: PatientAnalysis
    public let clinician: String

    /// Needs a clinician: a decision without one is refused before the analysis is built.
    public init(workspace: Workspace, reviewer: Reviewer, analysis: () throws -> PatientAnalysis) throws {
        guard let c = reviewer.clinician else { throw ReviewError("no clinician signed in: decisions need one") }
        clinician = c
        self.workspace = workspace
        self.reviewer = reviewer
        self.analysis = try analysis()
    }

    /// Commits the decision with its audit entry; throws, recording nothing, when a
    /// contraindicated choice lacks `confirm` and a note (`howToConfirm` tells the user, in
    /// the front end's words, how to give them).
    public func commit(chosen: String, reason: OverrideReasons.Reason?, note: String?, confirm: Bool,
                       howToConfirm: String = "add --confirm and a --note saying why",
                       howToConfirmPopulation: String = "add --confirm") throws -> (decision: DecisionRecord, audit: AuditEntry) {
        let a = analysis, who = reviewer
        let reasons = try workspace.overrideReasons()
        guard let k = a.treatments.firstIndex(where: { $0.id == chosen }) else {
            throw ReviewError("unknown treatment '\(chosen)'. Options: \(a.treatments.map(\.id).joined(separator: ", "))")
        }
        let contraindicated = a.standing(k).contraindicated
        let note = note.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        if !a.outsidePopulation.isEmpty && !confirm {
            try workspace.audit(who.entry(.decisionRefused, action: "C", patient: a.record.id, outcome: 4,
                                          detail: ["chosen": chosen, "error": "patient outside the model's population without --confirm"]))
            throw ReviewError("\(a.record.id) is outside the population the model was made for (\(a.population)):\n  "
                              + a.outsidePopulation.joined(separator: "\n  ") + "\nNothing was recorded. To record a decision anyway, \(howToConfirmPopulation).")
        }
        if contraindicated && (!confirm || note == nil) {
            let why = a.contraindications(k).map { "\($0.rule): \($0.message)" }
            try workspace.audit(who.entry(.decisionRefused, action: "C", patient: a.record.id, outcome: 4,
                                          detail: ["chosen": chosen, "error": "contraindicated choice without --confirm and --note"]))
            throw ReviewError("\(a.treatments[k].name) is contraindicated for \(a.record.id):\n  " + why.joined(separator: "\n  ")
                              + "\nNothing was recorded. To choose it anyway, \(howToConfirm).")
        }
        let recommended = a.treatments[a.top].id
        let order = a.displayOrder.map { a.treatments[$0].id }
        let statuses = Dictionary(uniqueKeysWithValues: a.treatments.indices.map { (a.treatments[$0].id, a.status($0).rawValue) })
        let standings = Dictionary(uniqueKeysWithValues: a.treatments.indices.map { k -> (String, DecisionRecord.ShownStanding) in
            let s = a.standing(k)
            return (a.treatments[k].id, .init(taking: s.taking, indication: s.indication?.rule, against: s.against?.status.rawValue,
                                               againstRule: s.against?.rule, deintensify: s.deintensify, label: s.label))
        })
        let reward = reason?.reward ?? reasons.acceptReward
        let rule = reason.map { "overridden, reason \($0.code): \($0.reward)" } ?? "accepted: \(reasons.acceptReward)"
        let decision = DecisionRecord(
            clinician: clinician, role: who.role, sessionId: who.sessionID, patient: a.record.id, visit: a.index + 1, visitDate: a.indexDate,
            modelVersion: a.model.label, modelSha256: a.model.sha256, knowledgeSha256: workspace.knowledgeSha256,
            input: .init(visits: a.visits.count, features: a.model.file.model.shape.features, values: a.input,
                         visitDates: a.visits.map { ClinicalCalendar.dayString(a.record.visits[$0].date) }),
            treatments: a.treatments.map(\.id), probabilities: a.probabilities, displayedOrder: order,
            guidelineStatuses: statuses, firedRules: a.guidelines.firedRules, recommended: recommended, chosen: chosen,
            outcome: reason == nil ? .accepted : .overridden,
            reason: reason.map { .init(code: $0.code, display: $0.display, system: reasons.system, systemCode: $0.systemCode) },
            note: note, contraindicatedChoice: contraindicated, reward: reward, rewardRule: rule, guidelineStandings: standings)
        let detail = a.outsidePopulation.isEmpty ? [:] : ["outside_population": a.outsidePopulation.joined(separator: "; ")]
        do { return try workspace.store.record(decision, audit: who.entry(.decisionRecorded, patient: a.record.id, detail: detail)) } catch {
            throw ReviewError("the decision was NOT recorded: \(error)")
        }
    }
}
