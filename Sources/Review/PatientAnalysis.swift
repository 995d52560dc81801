import Foundation
import Guidelines
import Patients
import Store
import TreatmentModel

/// One patient as of an index visit, through the model and the guidelines: what `recommend`,
/// `attention`, `explain` and `guidelines` show, and what the service's cards say.
public struct PatientAnalysis: @unchecked Sendable {
    public let record: PatientRecord
    /// The review date (the last encounter by default) and why it is that one.
    public let review: ReviewPoint
    /// The model's index visit (0-based): the last visit with model features on or before the review date.
    public let index: Int
    /// The visits the model saw (the latest 40 up to the index), as indices into the record.
    public let visits: [Int]
    public let raw: [[Float]]
    /// Standardized input, `[T·F]` visit-major.
    public let input: [Float]
    public let probabilities: [Float]
    public let attention: [Float]
    /// Each visit's exact share of each option's logit (`[visit][option]`), where the model's
    /// architecture has one (retain-v1).
    public let contributions: [[Float]]?
    public let guidelines: GuidelineChecker.Report
    public let model: DefaultModel.Loaded
    public let treatments: [TreatmentOption]
    /// Why the patient is outside the population the model was made for (empty: inside).
    public let outsidePopulation: [String]
    /// The inputs the model saw that lie outside its training range (from the model file), for imported patients.
    public let outsideTraining: [InputOutsideTraining]
    /// The pack's population, in words.
    public let population: String

    public static let maxVisits = 40

    /// Below this top probability the model is called uncertain, in words, wherever its
    /// distribution is shown: the top option is then less likely than not, by the model's own
    /// (calibrated) account.
    public static let uncertainBelow: Float = 0.5

    /// As of visit `index` (0-based; its date is the review date).
    public init(workspace: Workspace, record: PatientRecord, index: Int) throws {
        guard record.visits.indices.contains(index) else {
            throw ReviewError(record.visits.isEmpty ? "\(record.id) has no visits with model features to review" : "visit \(index + 1) is not one of \(record.id)'s \(record.visits.count) visits")
        }
        try self.init(workspace: workspace, record: record, review: ReviewPoint(date: record.visits[index].date, visit: index, basis: .visit))
    }

    /// Puts `record` as of `review` through the workspace's model and rules: the model sees the
    /// visits up to the review date, the rules the facts as of it.
    public init(workspace: Workspace, record: PatientRecord, review: ReviewPoint) throws {
        guard let index = review.visit else {
            throw ReviewError(record.visits.isEmpty ? "\(record.id) has no visits with model features to review"
                              : "\(record.id) has no visit with model features on or before \(review.day)")
        }
        self.record = record
        self.review = review
        self.index = index
        let model = try workspace.model()
        self.model = model
        let rows = model.rows(FeatureExtractor(pack: workspace.pack).matrix(for: record, through: index).rows)
        let first = max(0, rows.count - Self.maxVisits)
        visits = Array(first..<rows.count)
        raw = Array(rows[first...])
        input = model.file.model.standardize(raw)
        let pass = model.file.model.forward(SequenceBatch(sequences: [input], features: model.file.model.shape.features))
        probabilities = pass.probabilities(0)
        attention = pass.attentionWeights(0)
        contributions = model.file.model.contributions(pass, 0)
        guidelines = GuidelineChecker(book: try workspace.rules()).check(PatientFacts(record: record, asOf: review.date, pack: workspace.pack))
        treatments = workspace.pack.treatments.options
        population = workspace.pack.population.description
        outsidePopulation = workspace.pack.population.reasons(record, at: review.date, pack: workspace.pack)
        outsideTraining = record.origin == .synthetic ? [] : InputOutsideTraining.list(raw, visits: visits.map { record.visits[$0].date }, file: model.file, pack: workspace.pack)
    }

    public var top: Int { Metrics.argmax(probabilities) }
    /// The model's top option has less than `uncertainBelow` of the probability.
    public var uncertain: Bool { probabilities[top] < Self.uncertainBelow }
    /// Treatment indices as the screen lists them: most probable first.
    public var displayOrder: [Int] { probabilities.indices.sorted { probabilities[$0] > probabilities[$1] } }
    public func status(_ k: Int) -> GuidelineStatus { guidelines.statuses[treatments[k].id] ?? .neutral }
    /// Treatment `k`'s indication beside its caution or contraindication, taken or not.
    public func standing(_ k: Int) -> Standing { guidelines.standing(treatments[k].id) }
    /// The review date, as a day.
    public var indexDate: String { review.day }
    /// The date of the model's last visit.
    public var visitDate: String { ClinicalCalendar.dayString(record.visits[index].date) }

    /// What every model view's JSON carries beside its numbers.
    public var notice: ModelNotice {
        ModelNotice(reviewDate: indexDate, reviewBasis: review.basis.rawValue, modelVisit: index + 1, modelVisitDate: visitDate,
                    deceased: record.deceasedAt.map(ClinicalCalendar.dayString), syntheticPatient: record.origin == .synthetic,
                    modelTrainedOn: "synthetic cohort (no real patients)", outsidePopulation: outsidePopulation,
                    trainingRangeKnown: model.file.trainingRange != nil, inputsOutsideTrainingRange: outsideTraining)
    }

    /// What the audit event of a shown analysis records besides `detail`: which visit, which
    /// model, what it recommended.
    public func auditDetail(_ detail: [String: String] = [:]) -> [String: String] {
        var d = detail
        d["visit"] = String(index + 1)
        d["model_sha256"] = model.sha256
        d["top"] = treatments[top].id
        d["top_probability"] = String(format: "%.4f", probabilities[top])
        return d
    }

    /// A treatment's index from its id or its name (case and spaces ignored); an unknown one is
    /// an error that lists the options.
    public func treatmentIndex(_ text: String) throws -> Int {
        let key = text.lowercased().filter { !$0.isWhitespace }
        func names(_ t: TreatmentOption) -> [String] { [t.id.lowercased(), t.name.lowercased().filter { !$0.isWhitespace }] }
        if let k = treatments.firstIndex(where: { names($0).contains(key) }) { return k }
        // A word that only one option's id or name contains (`insulin`).
        let containing = treatments.indices.filter { k in !key.isEmpty && names(treatments[k]).contains { $0.contains(key) } }
        if containing.count == 1 { return containing[0] }
        let ids = treatments.map(\.id)
        throw ReviewError("unknown treatment '\(text)'." + (Suggest.nearest(text, in: ids).map { " Did you mean '\($0)'?" } ?? "") + " Options: \(ids.joined(separator: ", "))")
    }

    /// The fired rules that contraindicate treatment `k`.
    public func contraindications(_ k: Int) -> [Finding] {
        guidelines.findings.filter { $0.status == .fired && $0.kind == .contraindication && $0.treatments.contains(treatments[k].id) }
    }
}
