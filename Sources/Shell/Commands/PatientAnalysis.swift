import ArgumentParser
import Foundation
import Guidelines
import Patients
import Store
import TreatmentModel

/// Which patient and which visit a patient view shows: the loaded patient and its last visit
/// unless the command line says otherwise.
struct PatientSelection: ParsableArguments {
    @Option(help: ArgumentHelp("The patient (default: the one loaded).", valueName: "id")) var patient: String?
    @Option(help: ArgumentHelp("Review as of this visit (1 = first; default: the last).", valueName: "n")) var visit: Int?

    func record(in session: Session) throws -> PatientRecord {
        try patient.map { try session.load($0) } ?? session.requirePatient()
    }

    /// The 0-based index visit for `record`.
    func index(for record: PatientRecord) throws -> Int {
        guard !record.visits.isEmpty else { throw ValidationError("\(record.id) has no visits with model features to review") }
        let i = (visit.map { $0 - 1 }) ?? (record.visits.count - 1)
        guard record.visits.indices.contains(i) else { throw ValidationError("--visit must be 1 to \(record.visits.count)") }
        return i
    }
}

/// One patient as of an index visit, through the model and the guidelines: what `recommend`,
/// `attention`, `explain` and `guidelines` show.
struct PatientAnalysis {
    let record: PatientRecord
    /// The visit under review (0-based), the last by default.
    let index: Int
    /// The visits the model saw (the latest 40 up to the index), as indices into the record.
    let visits: [Int]
    let raw: [[Float]]
    /// Standardized input, `[T·F]` visit-major.
    let input: [Float]
    let probabilities: [Float]
    let attention: [Float]
    /// Each visit's exact share of each option's logit (`[visit][option]`), where the model's
    /// architecture has one (retain-v1).
    let contributions: [[Float]]?
    let guidelines: GuidelineChecker.Report
    let model: DefaultModel.Loaded
    let treatments: [TreatmentOption]

    static let maxVisits = 40

    /// Below this top probability the model is called uncertain, in words, wherever its
    /// distribution is shown: the top option is then less likely than not, by the model's own
    /// (calibrated) account.
    static let uncertainBelow: Float = 0.5

    init(session: Session, selection: PatientSelection) throws {
        let record = try selection.record(in: session)
        try self.init(session: session, record: record, index: try selection.index(for: record))
    }

    init(session: Session, record: PatientRecord, index: Int) throws {
        self.record = record
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
        contributions = model.file.model.contributions(pass, 0)
        guidelines = GuidelineChecker(book: try session.rules()).check(PatientFacts(record: record, visit: index, pack: session.pack))
        treatments = session.pack.treatments.options
    }

    var top: Int { Metrics.argmax(probabilities) }
    /// The model's top option has less than `uncertainBelow` of the probability.
    var uncertain: Bool { probabilities[top] < Self.uncertainBelow }

    /// Says so, in words, when the model is uncertain.
    func noteIfUncertain(_ out: Output) {
        guard uncertain else { return }
        out.print(out.yellow(String(format: "The model is uncertain: its top option, %@, has %.0f%%, below the %.0f%% at which Rounds calls it confident. Weigh the options below on their merits.",
                                    treatments[top].name, 100 * probabilities[top], 100 * Self.uncertainBelow)))
    }
    /// Treatment indices as the screen lists them: most probable first.
    var displayOrder: [Int] { probabilities.indices.sorted { probabilities[$0] > probabilities[$1] } }
    func status(_ k: Int) -> GuidelineStatus { guidelines.statuses[treatments[k].id] ?? .neutral }
    var indexDate: String { ClinicalCalendar.dayString(record.visits[index].date) }

    /// The standing note every model view carries.
    func header(_ out: Output, _ what: String) {
        out.print(out.bold("\(what) · \(record.id) · as of visit \(index + 1) of \(record.visits.count) (\(indexDate))"))
        if record.origin == .synthetic { out.print(out.dim("Synthetic patient; a model trained on synthetic data. Decision support only.")) }
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
