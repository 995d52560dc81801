import ArgumentParser
import Foundation
import Guidelines
import Patients
import Store
import TreatmentModel

/// Which patient and which date a patient view shows: the loaded patient as of its last
/// encounter unless the command line says otherwise.
struct PatientSelection: ParsableArguments {
    @Option(help: ArgumentHelp("The patient (default: the one loaded).", valueName: "id")) var patient: String?
    @Option(help: ArgumentHelp("Review as of this visit with model features (1 = first; default: the last encounter).", valueName: "n")) var visit: Int?
    @Option(name: .customLong("as-of"), help: ArgumentHelp("Review as of this date (YYYY-MM-DD; default: the last encounter, or the last before death).", valueName: "date"))
    var asOf: String?

    func record(in session: Session) throws -> PatientRecord {
        try patient.map { try session.load($0) } ?? session.requirePatient()
    }

    /// When `record` is reviewed: `--visit`, else `--as-of`, else the date `load --as-of` set
    /// for this patient, else the last encounter.
    func review(for record: PatientRecord, in session: Session? = nil) throws -> ReviewPoint {
        let loaded = session?.reviewAsOf.flatMap { $0.patient == record.id && visit == nil ? $0.date : nil }
        return try Self.review(record, visit: visit, asOf: asOf ?? loaded)
    }

    static func review(_ record: PatientRecord, visit: Int?, asOf: String?) throws -> ReviewPoint {
        if visit != nil && asOf != nil { throw ValidationError("give --visit or --as-of, not both") }
        var date: Date?
        if let asOf {
            guard let d = ClinicalCalendar.parse(asOf) else { throw ValidationError("--as-of '\(asOf)' is not a date (YYYY-MM-DD)") }
            date = asOf.count <= 10 ? ClinicalCalendar.endOfDay(d) : d
        }
        do { return try ReviewPoint.resolve(record, asOf: date, visit: visit.map { $0 - 1 }) } catch let e as ReviewError {
            throw ValidationError(e.description)
        }
    }

    /// The 0-based visit the model sees last for `record`.
    func index(for record: PatientRecord) throws -> Int {
        try Self.modelVisit(record, try review(for: record))
    }

    static func modelVisit(_ record: PatientRecord, _ review: ReviewPoint) throws -> Int {
        guard let i = review.visit else {
            throw ValidationError(record.visits.isEmpty ? "\(record.id) has no visits with model features to review"
                                  : "\(record.id) has no visit with model features on or before \(review.day)")
        }
        return i
    }
}

/// One patient as of an index visit, through the model and the guidelines: what `recommend`,
/// `attention`, `explain` and `guidelines` show.
struct PatientAnalysis {
    let record: PatientRecord
    /// The review date (the last encounter by default) and why it is that one.
    let review: ReviewPoint
    /// The model's index visit (0-based): the last visit with model features on or before the review date.
    let index: Int
    /// The visits the model saw (the latest 40 up to the index), as indices into the record.
    let visits: [Int]
    let raw: [[Float]]
    /// Standardized input, `[T·F]` visit-major.
    let input: [Float]
    let probabilities: [Float]
    let attention: [Float]
    let guidelines: GuidelineChecker.Report
    let model: DefaultModel.Loaded
    let treatments: [TreatmentOption]
    /// Why the patient is outside the population the model was made for (empty: inside).
    let outsidePopulation: [String]
    /// The inputs the model saw that lie outside its training range (from the model file), for imported patients.
    let outsideTraining: [InputOutsideTraining]
    /// The pack's population, in words.
    let population: String

    static let maxVisits = 40

    init(session: Session, selection: PatientSelection) throws {
        let record = try selection.record(in: session)
        try self.init(session: session, record: record, review: try selection.review(for: record, in: session))
    }

    /// As of visit `index` (its date is the review date).
    init(session: Session, record: PatientRecord, index: Int) throws {
        try self.init(session: session, record: record, review: ReviewPoint(date: record.visits[index].date, visit: index, basis: .visit))
    }

    init(session: Session, record: PatientRecord, review: ReviewPoint) throws {
        let index = try PatientSelection.modelVisit(record, review)
        self.record = record
        self.review = review
        self.index = index
        let model = try session.model()
        self.model = model
        let rows = FeatureExtractor(pack: session.pack).matrix(for: record, through: index).rows
        let first = max(0, rows.count - Self.maxVisits)
        visits = Array(first..<rows.count)
        raw = Array(rows[first...])
        input = model.file.model.standardize(raw)
        let pass = model.file.model.forward(SequenceBatch(sequences: [input], features: model.file.model.shape.features))
        probabilities = pass.probabilities(0)
        attention = pass.attentionWeights(0)
        guidelines = GuidelineChecker(book: try session.rules()).check(PatientFacts(record: record, asOf: review.date, pack: session.pack))
        treatments = session.pack.treatments.options
        population = session.pack.population.description
        outsidePopulation = session.pack.population.reasons(record, at: review.date, pack: session.pack)
        outsideTraining = record.origin == .synthetic ? [] : InputOutsideTraining.list(raw, visits: visits.map { record.visits[$0].date }, file: model.file, pack: session.pack)
    }

    var top: Int { Metrics.argmax(probabilities) }
    /// Treatment indices as the screen lists them: most probable first.
    var displayOrder: [Int] { probabilities.indices.sorted { probabilities[$0] > probabilities[$1] } }
    func status(_ k: Int) -> GuidelineStatus { guidelines.statuses[treatments[k].id] ?? .neutral }
    /// The review date, as a day.
    var indexDate: String { review.day }
    var visitDate: String { ClinicalCalendar.dayString(record.visits[index].date) }

    /// The standing note every model view carries: the review date, death, the population and
    /// the synthetic model (`ModelNotice` says the same in JSON).
    func header(_ out: Output, _ what: String) {
        out.print(out.bold("\(what) · \(record.id) · as of \(indexDate) (\(review.basis.rawValue)) · model's last visit \(index + 1) of \(record.visits.count) (\(visitDate))"))
        if let d = record.deceasedAt { out.print(out.bold("Died \(ClinicalCalendar.dayString(d)).") + " Reviewed as of \(indexDate), \(review.basis == .lastEncounterBeforeDeath ? "the last encounter before death" : review.basis.rawValue).") }
        if record.origin == .synthetic { out.print(out.dim("Synthetic patient; a model trained on synthetic data. Decision support only.")) }
        else {
            out.print(out.yellow("The model was trained on a synthetic cohort (no real patients) and has not been validated on real ones. Decision support only."))
            if model.file.trainingRange == nil { out.print(out.dim("This model file stores no training ranges, so inputs outside them cannot be named.")) }
            else if outsideTraining.isEmpty { out.print(out.dim("Every input lies within the range the model was trained on.")) }
            else {
                out.print(out.yellow("Inputs outside the range the model was trained on (\(outsideTraining.count)):"))
                for e in outsideTraining { out.print(out.yellow("  " + e.text)) }
            }
        }
        if !outsidePopulation.isEmpty {
            out.print(out.red(out.bold("⚠ OUTSIDE THE MODEL'S POPULATION (the model is for \(population)): the model's distribution does not apply to this patient.")))
            for r in outsidePopulation { out.print(out.red("  " + r)) }
            out.print(out.red("  The record and the guideline checks still apply; a decision needs --confirm."))
        }
    }


    /// What every model view's JSON carries beside its numbers.
    var notice: ModelNotice {
        ModelNotice(reviewDate: indexDate, reviewBasis: review.basis.rawValue, modelVisit: index + 1, modelVisitDate: visitDate,
                    deceased: record.deceasedAt.map(ClinicalCalendar.dayString), syntheticPatient: record.origin == .synthetic,
                    modelTrainedOn: "synthetic cohort (no real patients)", outsidePopulation: outsidePopulation,
                    trainingRangeKnown: model.file.trainingRange != nil, inputsOutsideTrainingRange: outsideTraining)
    }

    /// Loud when the model's first choice is one the guidelines contraindicate.
    func warnIfTopContraindicated(_ out: Output) {
        guard status(top) == .contraindicated else { return }
        let reasons = contraindications(top).map(\.message)
        out.print(out.red(out.bold("⚠ THE MODEL'S TOP CHOICE, \(treatments[top].name.uppercased()), IS CONTRAINDICATED:")))
        for r in reasons { out.print(out.red("  " + r)) }
    }

    /// Logs that this analysis was shown: which visit, which model, what it recommended.
    func audit(_ session: Session, _ event: AuditEvent, detail: [String: String] = [:]) throws {
        var d = detail
        d["visit"] = String(index + 1)
        d["model_sha256"] = model.sha256
        d["top"] = treatments[top].id
        d["top_probability"] = String(format: "%.4f", probabilities[top])
        try session.audit(event, patient: record.id, detail: d)
    }

    /// A treatment's index from its id or its name (case and spaces ignored); an unknown one is
    /// an error that lists the options.
    func treatmentIndex(_ text: String) throws -> Int {
        let key = text.lowercased().filter { !$0.isWhitespace }
        func names(_ t: TreatmentOption) -> [String] { [t.id.lowercased(), t.name.lowercased().filter { !$0.isWhitespace }] }
        if let k = treatments.firstIndex(where: { names($0).contains(key) }) { return k }
        // A word that only one option's id or name contains (`insulin`).
        let containing = treatments.indices.filter { k in !key.isEmpty && names(treatments[k]).contains { $0.contains(key) } }
        if containing.count == 1 { return containing[0] }
        let ids = treatments.map(\.id)
        throw ValidationError("unknown treatment '\(text)'." + (Suggest.nearest(text, in: ids).map { " Did you mean '\($0)'?" } ?? "") + " Options: \(ids.joined(separator: ", "))")
    }

    /// The fired rules that contraindicate treatment `k`.
    func contraindications(_ k: Int) -> [Finding] {
        guidelines.findings.filter { $0.status == .fired && $0.kind == .contraindication && $0.treatments.contains(treatments[k].id) }
    }

    func statusText(_ out: Output, _ s: GuidelineStatus) -> String {
        switch s {
        case .contraindicated: return out.red(out.bold("✖ " + s.label))
        case .caution, .recheck: return out.yellow("! " + s.label)
        case .indicated: return "✓ " + s.label
        case .neutral: return out.dim("· " + s.label)
        }
    }
}

/// Signed and unsigned bars.
enum Bars {
    static func bar(_ fraction: Double, width: Int) -> String {
        let cells = max(0, min(Double(width), fraction * Double(width)))
        let full = Int(cells)
        let partials: [Character] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        var s = String(repeating: "█", count: full)
        let rest = Int((cells - Double(full)) * 8)
        if full < width && rest > 0 { s.append(partials[rest]) }
        return s.padding(toLength: width, withPad: " ", startingAt: 0)
    }

    /// A bar left of the axis for negative values, right for positive, scaled to `scale`.
    static func signed(_ value: Double, scale: Double, half: Int) -> String {
        let n = scale > 0 ? min(half, Int((abs(value) / scale * Double(half)).rounded())) : 0
        let left = value < 0 ? String(repeating: " ", count: half - n) + String(repeating: "◀", count: n) : String(repeating: " ", count: half)
        let right = value > 0 ? String(repeating: "▶", count: n) + String(repeating: " ", count: half - n) : String(repeating: " ", count: half)
        return left + "│" + right
    }
}
