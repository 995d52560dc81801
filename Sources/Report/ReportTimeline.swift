import Foundation
import Patients

/// The patient's history up to the review date as the timeline chart draws it: HbA1c, eGFR,
/// weight and blood pressure as measured (in the pack's canonical units), and every
/// glucose-lowering medicine as a period, with whether it started or stopped inside the chart.
public struct ReportTimeline: Sendable {
    public struct Point: Sendable { public var date: Date; public var value: Double }
    public struct Series: Sendable {
        public var feature: String, name: String, unit: String
        public var points: [Point]
    }
    public struct Drug: Sendable {
        public var display: String
        /// The treatment option it belongs to (insulin therapy related to basal insulin is named so).
        public var option: String
        public var optionID: String
        public var start: Date
        /// Nil while taken on the review date.
        public var end: Date?
    }

    /// The features charted, in panel order; blood pressure is two series in one panel.
    public static let charted = ["hba1c", "egfr", "weight", "sbp", "dbp"]

    public let series: [Series]
    public let drugs: [Drug]
    /// Dates of every visit up to the review date.
    public let visitDates: [Date]
    /// The chart's time span: the first visit (or an earlier medicine start) to the review date.
    public let start: Date, end: Date

    /// The record up to the end of the review date's day (the visits `summary` lists).
    public init(record r: PatientRecord, review: ReviewPoint, pack: KnowledgePack) {
        let indexDate = review.date
        let cutoff = ClinicalCalendar.endOfDay(indexDate)
        let shown = r.visits.filter { $0.date <= cutoff }
        var byFeature: [String: [Point]] = [:]
        for v in shown {
            for o in v.observations {
                if case .value(let f, let value) = pack.features.measure(o), Self.charted.contains(f) { byFeature[f, default: []].append(Point(date: o.time, value: value)) }
            }
        }
        series = Self.charted.compactMap { f in
            guard let def = pack.features.definition(id: f) else { return nil }
            return Series(feature: f, name: def.name, unit: def.unit ?? "", points: (byFeature[f] ?? []).sorted { $0.date < $1.date })
        }
        drugs = r.medications.filter { $0.start <= cutoff }.compactMap { m in
            guard let map = pack.treatments.map(code: m.code, display: m.display) else { return nil }
            let name = pack.treatments.option(id: map.treatment)?.name ?? map.treatment
            return Drug(display: m.display, option: map.related ? "insulin therapy (\(name))" : name, optionID: map.treatment,
                        start: m.start, end: m.end.flatMap { $0 <= cutoff ? $0 : nil })
        }.sorted { ($0.start, $0.display) < ($1.start, $1.display) }
        visitDates = shown.map(\.date)
        let first = shown.first?.date ?? indexDate
        var s = first, e = indexDate
        if e.timeIntervalSince(s) < 86400 * 30 { s = e.addingTimeInterval(-86400 * 30) }
        // A medicine begun before the first visit starts at the chart's left edge (it is marked as already taken).
        s = min(s, first)
        e = max(e, s.addingTimeInterval(86400))
        start = s
        end = e
    }

    /// Whether the medicine began inside the chart (a start marker) or before it.
    public func startsInside(_ d: Drug) -> Bool { d.start >= start }
}
