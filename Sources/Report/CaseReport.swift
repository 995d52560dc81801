import Foundation
import Guidelines
import Patients
import Review
import Store

/// Everything one case report shows, gathered from the review core: the same `PatientAnalysis`
/// (model, attention, guideline findings), `Explanation` (integrated gradients) and `WhatIf` the
/// shell's views print, the patient's recorded decisions, and who made the report and when.
/// Nothing here is computed any other way than the shell computes it; `ReportPage` only draws it.
public struct CaseReport: @unchecked Sendable {
    /// What the person making the report asked for.
    public struct Options: Sendable {
        /// What-if changes (`egfr=24 heart_failure=yes`); none for no what-if section.
        public var whatIf: [String]
        /// Replace the patient's and clinicians' ids by the site's HMAC pseudonyms and leave out the name.
        public var pseudonymize: Bool
        /// When the report is made (the header says so).
        public var madeAt: Date
        /// How many of the strongest feature-at-visit cells to list.
        public var strongestCells: Int

        public init(whatIf: [String] = [], pseudonymize: Bool = false, madeAt: Date = Date(), strongestCells: Int = 10) {
            self.whatIf = whatIf; self.pseudonymize = pseudonymize; self.madeAt = madeAt; self.strongestCells = strongestCells
        }
    }

    public let options: Options
    public let analysis: PatientAnalysis
    public let explanation: Explanation
    public let whatIf: WhatIf?
    public let decisions: [DecisionRecord]
    public let timeline: ReportTimeline
    public let pack: KnowledgePack
    /// The patient as the page names them: their id, or their pseudonym.
    public let patientLabel: String
    /// The patient's name, left out when pseudonymized.
    public let patientName: String?
    /// Who made it: the signed-in clinician (and role), else the operating-system user; pseudonymized with the patient.
    public let madeBy: String
    public let knowledgeSha256: String
    /// The model's training data as its file states it, and the training cohort's fingerprint.
    public let modelTrainingData: String?
    public let modelTrainingCohort: String?
    private let pseudonymizer: Pseudonymizer?

    /// The report of `record` as of `review` (see `ReviewPoint`: the last encounter unless the
    /// reader chose a visit or a date), as `reviewer` makes it.
    public init(workspace: Workspace, reviewer: Reviewer, record: PatientRecord, review: ReviewPoint, options: Options = Options()) throws {
        self.options = options
        analysis = try PatientAnalysis(workspace: workspace, record: record, review: review)
        explanation = Explanation(analysis)
        whatIf = options.whatIf.isEmpty ? nil : try WhatIf(workspace: workspace, record: record, review: review, changes: options.whatIf)
        do { decisions = try workspace.store.decisions(patient: record.id) } catch { throw ReviewError("cannot read \(record.id)'s decisions: \(error)") }
        pack = workspace.pack
        timeline = ReportTimeline(record: record, review: review, pack: workspace.pack)
        knowledgeSha256 = workspace.knowledgeSha256
        modelTrainingData = analysis.model.file.extra["data"]
        modelTrainingCohort = analysis.model.file.extra["training_cohort"]
        let who = reviewer.clinician.map { c in c + (reviewer.role.map { " (\($0))" } ?? "") } ?? "user \(reviewer.user)"
        if options.pseudonymize {
            let people = [reviewer.clinician, reviewer.user].compactMap { $0 } + decisions.map(\.clinician)
            let p = Pseudonymizer(key: workspace.store.siteKey, patients: [record.id], people: people)
            pseudonymizer = p
            patientLabel = p.id(record.id) ?? record.id
            patientName = nil
            madeBy = reviewer.clinician.map { c in (p.id(c) ?? c) + (reviewer.role.map { " (\($0))" } ?? "") } ?? "user \(p.id(reviewer.user) ?? "")"
        } else {
            pseudonymizer = nil
            patientLabel = record.id
            patientName = record.name
            madeBy = who
        }
    }

    public var record: PatientRecord { analysis.record }
    public var synthetic: Bool { record.origin == .synthetic }
    /// Age on the review date.
    public var age: Int { record.age(at: analysis.review.date) }

    /// An id or a free text as the page may show it: pseudonymized when asked.
    public func shown(_ text: String) -> String { pseudonymizer?.scrub(text) ?? text }
    public func shownID(_ id: String) -> String { pseudonymizer?.id(id) ?? id }

    /// What the report's audit entry records besides the analysis's detail.
    public func auditDetail(out: String) -> [String: String] {
        var d = analysis.auditDetail(["out": out, "pseudonymized": String(options.pseudonymize), "decisions": String(decisions.count),
                                      "knowledge_sha256": knowledgeSha256, "target": analysis.treatments[explanation.target].id])
        if !options.whatIf.isEmpty { d["whatif"] = options.whatIf.joined(separator: " ") }
        return d
    }

    /// The page.
    public func html() -> String { ReportPage(self).render() }
}
