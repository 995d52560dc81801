import ArgumentParser
import Foundation
import Patients

/// `summary`: the loaded patient's timeline.
struct SummaryCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "The patient's timeline: conditions and medications now, trends of HbA1c, eGFR, weight and blood pressure, and the visits.",
        discussion: "Everything is as of the review date (the last encounter, the last before death, or --as-of): clinical time, not the wall clock.")

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The patient (default: the one loaded in the shell).", valueName: "id"))
    var patient: String?

    @Option(help: "Show at most this many of the latest visits (0 for all).")
    var visits: Int = 12

    @Option(name: .customLong("as-of"), help: ArgumentHelp("Review as of this date (YYYY-MM-DD; default: the last encounter).", valueName: "date"))
    var asOf: String?

    @Flag(help: "Print as JSON.")
    var json = false

    func run(in session: Session) throws {
        let record = try patient.map { try session.load($0) } ?? session.requirePatient()
        let loaded = session.reviewAsOf.flatMap { $0.patient == record.id ? $0.date : nil }
        let review = try PatientSelection.review(record, visit: nil, asOf: asOf ?? loaded)
        let view = TimelineSummary(record: record, review: review, pack: session.pack)
        if json { try session.out.json(view); return }
        view.render(out: session.out, visits: visits)
    }
}

/// What `summary` shows, built once so that text and JSON say the same.
struct TimelineSummary: Encodable {
    struct Trend: Encodable { var feature: String; var name: String; var unit: String; var values: [Double]; var dates: [String] }
    struct Fact: Encodable { var id: String; var name: String; var source: String }
    struct Medication: Encodable { var display: String; var code: String; var since: String; var option: String?; var therapy: String? }
    struct LabValue: Encodable { var id: String; var name: String; var value: Double; var unit: String; var date: String }
    struct VisitRow: Encodable { var date: String; var kind: String; var values: [String: Double]; var started: [String]; var stopped: [String] }

    var id: String
    var name: String?
    var sex: String
    var age: Int?
    var birthDate: String
    var deceased: String?
    var synthetic: Bool
    /// The review date and why it is that one.
    var reviewDate: String
    var reviewBasis: String
    /// The last visit with model features on or before the review date.
    var indexVisit: String?
    var visitCount: Int
    var encounterCount: Int
    var conditions: [Fact]
    /// Context conditions (type 2 diabetes, complications...): shown and read by the rules, not model inputs.
    var context: [Fact]
    var medications: [Medication]
    /// Other labs of the context (HDL, total cholesterol, albumin...), latest as of the review date.
    var otherLabs: [LabValue]
    /// Why the model does not apply to this patient (empty: it does).
    var outsidePopulation: [String]
    var trends: [Trend]
    var visits: [VisitRow]

    init(record r: PatientRecord, review: ReviewPoint, pack: KnowledgePack) {
        let extractor = FeatureExtractor(pack: pack)
        let index = review.date
        id = r.id; name = r.name; sex = r.sex.rawValue; birthDate = ClinicalCalendar.dayString(r.birthDate)
        age = r.age(at: index)
        deceased = r.deceasedAt.map(ClinicalCalendar.dayString)
        synthetic = r.origin == .synthetic
        reviewDate = review.day; reviewBasis = review.basis.rawValue
        indexVisit = review.visit.map { ClinicalCalendar.dayString(r.visits[$0].date) }
        visitCount = r.visits.count
        encounterCount = max(r.encounters.count, r.visits.count)
        let known = extractor.knownValues(for: r, at: index)
        let holding = extractor.conditionFeatures(for: r, at: index)
        conditions = holding.compactMap { id in
            guard let def = pack.features.definition(id: id) else { return nil }
            let coded = r.conditions.first { c in
                pack.features.conditionFeature(code: c.code, display: c.display)?.0.id == id && (def.history ? c.onset <= index : c.isActive(at: index))
            }
            if let c = coded { return Fact(id: id, name: def.name, source: "\(c.display) since \(ClinicalCalendar.dayString(c.onset))") }
            if let d = def.derived, let v = known[d.from], let src = pack.features.definition(id: d.from) {
                return Fact(id: id, name: def.name, source: String(format: "derived: %@ %.1f %@ on %@", src.name, v.value, src.unit ?? "", ClinicalCalendar.dayString(v.time)))
            }
            return Fact(id: id, name: def.name, source: "")
        }
        context = pack.context.conditions(of: r, at: index).map { c in
            Fact(id: c.condition.id, name: c.condition.name, source: "\(c.entry.display) since \(ClinicalCalendar.dayString(c.entry.onset))")
        }
        medications = r.activeMedications(at: index).map { m in
            let map = pack.treatments.map(code: m.code, display: m.display)
            let therapy = map == nil ? pack.context.therapies.map(code: m.code, display: m.display).flatMap { pack.context.therapies.option(id: $0.treatment)?.name } : nil
            return Medication(display: m.display, code: m.code, since: ClinicalCalendar.dayString(m.start),
                              option: map.map { ($0.related ? "insulin therapy (" : "") + (pack.treatments.option(id: $0.treatment)?.name ?? $0.treatment) + ($0.related ? ")" : "") },
                              therapy: therapy)
        }
        var latest: [String: LabValue] = [:]
        let cutoff = ClinicalCalendar.endOfDay(index)
        for v in r.visits where v.date <= cutoff {
            for o in v.observations where o.time <= cutoff {
                if case .value(let f, let value) = pack.context.labs.measure(o), let def = pack.context.labs.definition(id: f),
                   index.timeIntervalSince(o.time) <= def.carryForwardDays * 86400 {
                    latest[f] = LabValue(id: f, name: def.name, value: value, unit: def.unit ?? "", date: ClinicalCalendar.dayString(o.time))
                }
            }
        }
        otherLabs = pack.context.labs.definitions.compactMap { latest[$0.id] }
        outsidePopulation = pack.population.reasons(r, at: index, pack: pack)
        let trendFeatures = ["hba1c", "egfr", "weight", "sbp"]
        var series: [String: [(Date, Double)]] = [:]
        for v in r.visits where v.date <= cutoff {
            for o in v.observations {
                if case .value(let f, let value) = pack.features.measure(o), trendFeatures.contains(f) { series[f, default: []].append((o.time, value)) }
            }
        }
        trends = trendFeatures.compactMap { f in
            guard let s = series[f], let def = pack.features.definition(id: f) else { return nil }
            return Trend(feature: f, name: def.name, unit: def.unit ?? "", values: s.map(\.1), dates: s.map { ClinicalCalendar.dayString($0.0) })
        }
        let shown = ["hba1c", "egfr", "bmi", "sbp", "dbp"]
        visits = r.visits.filter { $0.date <= cutoff }.map { v in
            var values: [String: Double] = [:]
            for o in v.observations { if case .value(let f, let value) = pack.features.measure(o), shown.contains(f) { values[f] = value } }
            let day = ClinicalCalendar.dayString(v.date)
            let started = r.medications.filter { ClinicalCalendar.dayString($0.start) == day }.map(\.display)
            let stopped = r.medications.filter { $0.end.map(ClinicalCalendar.dayString) == day }.map(\.display)
            return VisitRow(date: day, kind: v.kind, values: values, started: started, stopped: stopped)
        }
    }

    func render(out: Output, visits limit: Int) {
        var head = "\(id)\(name.map { " · \($0)" } ?? "") · \(sex)\(age.map { " \($0)" } ?? "") · born \(birthDate) · \(visitCount) visits with model features"
        head += " · as of \(reviewDate) (\(reviewBasis))"
        out.print(out.bold(head))
        if let d = deceased { out.print(out.bold("Died \(d).") + " Reviewed as of \(reviewDate).") }
        if synthetic { out.print(out.dim("Synthetic patient from the demo cohort: not a real person.")) }
        if !outsidePopulation.isEmpty { out.print(out.red("Outside the model's population: " + outsidePopulation.joined(separator: "; ") + ".")) }
        out.print("")
        out.print(out.bold("Conditions") + (conditions.isEmpty && context.isEmpty ? "  none of the pack's" : ""))
        for c in context { out.print("  \(c.name)\(c.source.isEmpty ? "" : out.dim("  \(c.source)"))") }
        for c in conditions { out.print("  \(c.name)\(c.source.isEmpty ? "" : out.dim("  \(c.source)"))") }
        out.print(out.bold("Medications") + (medications.isEmpty ? "  none current" : ""))
        for m in medications {
            let kind = m.option.map { " · \($0)" } ?? (m.therapy.map { " · other therapy: \($0)" } ?? " · not a glucose-lowering option")
            out.print("  \(m.display)\(out.dim("  since \(m.since)" + kind))")
        }
        if !otherLabs.isEmpty {
            out.print(out.bold("Other labs") + out.dim("  (context, not model inputs)"))
            for l in otherLabs { out.print(String(format: "  %@ %.1f %@", l.name, l.value, l.unit) + out.dim("  on \(l.date)")) }
        }
        out.print("")
        out.print(out.bold("Trends"))
        for t in trends {
            let last = t.values.last.map { String(format: "%.1f %@ on %@", $0, t.unit, t.dates.last ?? "") } ?? ""
            out.print("  " + t.name.padding(toLength: 13, withPad: " ", startingAt: 0) + Sparkline.render(t.values, width: max(10, min(40, out.width - 50))) + "  " + last
                      + out.dim(String(format: "  (range %.1f–%.1f, %d values)", t.values.min() ?? 0, t.values.max() ?? 0, t.values.count)))
        }
        out.print("")
        let shown = limit == 0 ? visits : Array(visits.suffix(limit))
        out.print(out.bold("Visits") + (shown.count < visits.count ? out.dim("  (latest \(shown.count) of \(visits.count); --visits 0 for all)") : ""))
        func v(_ row: VisitRow, _ f: String, _ fmt: String = "%.1f") -> String { row.values[f].map { String(format: fmt, $0) } ?? "·" }
        let rows = shown.map { row -> [String] in
            let bp = row.values["sbp"].map { s in String(format: "%.0f/%@", s, row.values["dbp"].map { String(format: "%.0f", $0) } ?? "?") } ?? "·"
            let changes = (row.started.map { "+ " + $0 } + row.stopped.map { "− " + $0 }).joined(separator: "; ")
            return [row.date, v(row, "hba1c"), v(row, "egfr", "%.0f"), v(row, "bmi"), bp, changes]
        }
        out.print(Table(headers: ["DATE", "HBA1C %", "EGFR", "BMI", "BP", "MEDICATION CHANGES"], rows: rows, rightAligned: [1, 2, 3, 4]).render(width: out.width))
    }
}

/// A one-line chart of a series with block characters.
enum Sparkline {
    static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// The last `width` values (fewer when there are fewer), scaled between their min and max.
    static func render(_ values: [Double], width: Int) -> String {
        let vs = Array(values.suffix(width))
        guard let lo = vs.min(), let hi = vs.max() else { return "" }
        return String(vs.map { v in hi > lo ? blocks[min(Int((v - lo) / (hi - lo) * Double(blocks.count - 1) + 0.5), blocks.count - 1)] : blocks[3] })
    }
}
