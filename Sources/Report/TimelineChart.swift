import Foundation
import Patients
import Review

/// The timeline: HbA1c, eGFR, weight and blood pressure over time, each glucose-lowering
/// medicine as a bar over the period it was taken (a triangle where it started, a bar where it
/// stopped, an arrow if still taken), and the model's attention over the visits as a strip on the
/// same time axis, so a heavily weighted visit lines up with what happened at it.
struct TimelineChart {
    let report: CaseReport
    var t: ReportTimeline { report.timeline }

    static let width = 960.0, left = 170.0, right = 24.0
    static let panelHeight = 58.0, panelGap = 16.0, laneHeight = 16.0
    var plotWidth: Double { Self.width - Self.left - Self.right }

    func x(_ d: Date) -> Double {
        let span = t.end.timeIntervalSince(t.start)
        return Self.left + max(0, min(1, d.timeIntervalSince(t.start) / span)) * plotWidth
    }

    /// Panels: one per charted measure, blood pressure's two series in one.
    var panels: [(title: String, unit: String, series: [ReportTimeline.Series])] {
        let by = Dictionary(uniqueKeysWithValues: t.series.map { ($0.feature, $0) })
        var p: [(String, String, [ReportTimeline.Series])] = []
        for f in ["hba1c", "egfr", "weight"] { if let s = by[f] { p.append((s.name, s.unit, [s])) } }
        let bp = ["sbp", "dbp"].compactMap { by[$0] }
        if !bp.isEmpty { p.append(("Blood pressure", bp[0].unit, bp)) }
        return p
    }

    func svg() -> String {
        let panels = self.panels
        let drugs = t.drugs
        var y = 8.0
        var body = ""
        // Years along the top, and a tick at every visit.
        let axisTop = y
        body += yearLabels(y: y + 10)
        y += 20
        for panel in panels {
            body += panelSVG(panel, top: y)
            y += Self.panelHeight + Self.panelGap
        }
        // Medicines.
        body += "<text class=\"lane-title\" x=\"8\" y=\"\(f(y + 11))\">Glucose-lowering medicines</text>"
        y += 16
        if drugs.isEmpty {
            body += "<text class=\"empty\" x=\"\(f(Self.left + 4))\" y=\"\(f(y + 11))\">none recorded up to the review date</text>"
            y += Self.laneHeight
        }
        let optionIDs = report.pack.treatments.ids
        for d in drugs {
            let x0 = x(max(d.start, t.start)), x1 = x(d.end ?? t.end)
            let colour = Palette.categorical[(optionIDs.firstIndex(of: d.optionID) ?? 0) % Palette.categorical.count]
            let label = d.display.count > 30 ? String(d.display.prefix(29)) + "…" : d.display
            body += "<g class=\"drug\"><title>\(HTML.esc(d.display)) (\(HTML.esc(d.option))): \(Fmt.day(d.start)) to \(d.end.map(Fmt.day) ?? "the review date, still taken")</title>"
            body += "<text class=\"lane\" x=\"8\" y=\"\(f(y + 11))\">\(HTML.esc(label))</text>"
            body += "<rect x=\"\(f(x0))\" y=\"\(f(y + 3))\" width=\"\(f(max(2, x1 - x0)))\" height=\"10\" fill=\"\(colour)\" fill-opacity=\"0.75\" stroke=\"#222\" stroke-width=\"0.6\"/>"
            if t.startsInside(d) { body += "<polygon class=\"start\" points=\"\(f(x0)),\(f(y)) \(f(x0 + 6)),\(f(y + 8)) \(f(x0)),\(f(y + 16))\" fill=\"#000\"/>" }
            if d.end != nil { body += "<rect class=\"stop\" x=\"\(f(x1 - 1.5))\" y=\"\(f(y))\" width=\"3\" height=\"16\" fill=\"#000\"/>" }
            else { body += "<polygon class=\"ongoing\" points=\"\(f(x1 + 1)),\(f(y + 2)) \(f(x1 + 8)),\(f(y + 8)) \(f(x1 + 1)),\(f(y + 14))\" fill=\"#000\"/>" }
            body += "</g>"
            y += Self.laneHeight + 2
        }
        // Attention over the visits the model saw.
        y += 8
        body += attentionStrip(top: y)
        y += 40
        let ticks = t.visitDates.map { "<line x1=\"\(f(x($0)))\" x2=\"\(f(x($0)))\" y1=\"\(f(axisTop + 14))\" y2=\"\(f(axisTop + 20))\" stroke=\"#555\" stroke-width=\"0.7\"/>" }.joined()
        let h = y + 4
        return "<svg class=\"chart\" id=\"timeline-chart\" viewBox=\"0 0 \(f(Self.width)) \(f(h))\" width=\"100%\" role=\"img\" aria-labelledby=\"timeline-chart-title\">"
            + "<title id=\"timeline-chart-title\">Timeline of \(HTML.esc(report.patientLabel)): HbA1c, eGFR, weight and blood pressure, glucose-lowering medicines, and the model's attention over the visits, from \(Fmt.day(t.start)) to the review date \(Fmt.day(t.end)).</title>"
            + ticks + body + "</svg>"
    }

    func yearLabels(y: Double) -> String {
        var s = ""
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let first = calendar.component(.year, from: t.start)
        for year in first...(first + 150) {
            guard let d = calendar.date(from: DateComponents(year: year, month: 1, day: 1)), d <= t.end else { break }
            guard d >= t.start else { continue }
            s += "<text class=\"axis\" x=\"\(f(x(d)))\" y=\"\(f(y))\" text-anchor=\"middle\">\(year)</text>"
            s += "<line x1=\"\(f(x(d)))\" x2=\"\(f(x(d)))\" y1=\"\(f(y + 4))\" y2=\"\(f(y + 2000))\" stroke=\"#ddd\" stroke-width=\"0.6\"/>"
        }
        return s
    }

    func panelSVG(_ panel: (title: String, unit: String, series: [ReportTimeline.Series]), top: Double) -> String {
        let h = Self.panelHeight
        var s = "<g class=\"panel\" data-panel=\"\(HTML.esc(panel.series.map(\.feature).joined(separator: ",")))\">"
        s += "<rect x=\"\(f(Self.left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(h))\" fill=\"#fafafa\" stroke=\"#bbb\" stroke-width=\"0.6\"/>"
        s += "<text class=\"panel-title\" x=\"8\" y=\"\(f(top + 14))\">\(HTML.esc(panel.title))</text>"
        s += "<text class=\"unit\" x=\"8\" y=\"\(f(top + 28))\">\(HTML.esc(panel.unit))</text>"
        let values = panel.series.flatMap { $0.points.map(\.value) }
        guard let lo0 = values.min(), let hi0 = values.max() else {
            return s + "<text class=\"empty\" x=\"\(f(Self.left + plotWidth / 2))\" y=\"\(f(top + h / 2 + 4))\" text-anchor=\"middle\">not measured up to the review date</text></g>"
        }
        let pad = max((hi0 - lo0) * 0.1, max(abs(hi0) * 0.02, 0.5))
        let lo = lo0 - pad, hi = hi0 + pad
        func y(_ v: Double) -> Double { top + h - (v - lo) / (hi - lo) * h }
        s += "<text class=\"axis\" x=\"\(f(Self.left - 5))\" y=\"\(f(y(hi0) + 4))\" text-anchor=\"end\">\(Fmt.value(hi0))</text>"
        s += "<text class=\"axis\" x=\"\(f(Self.left - 5))\" y=\"\(f(y(lo0) + 4))\" text-anchor=\"end\">\(Fmt.value(lo0))</text>"
        for (k, series) in panel.series.enumerated() {
            let colour = Palette.series[series.feature] ?? "#000"
            let pts = series.points.map { "\(f(x($0.date))),\(f(y($0.value)))" }.joined(separator: " ")
            s += "<polyline class=\"series\" data-series=\"\(series.feature)\" points=\"\(pts)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.6\"\(k == 1 ? " stroke-dasharray=\"5 3\"" : "")/>"
            for p in series.points {
                if k == 1 { s += "<rect x=\"\(f(x(p.date) - 2.2))\" y=\"\(f(y(p.value) - 2.2))\" width=\"4.4\" height=\"4.4\" fill=\"#fff\" stroke=\"\(colour)\" stroke-width=\"1.2\"/>" }
                else { s += "<circle cx=\"\(f(x(p.date)))\" cy=\"\(f(y(p.value)))\" r=\"2.4\" fill=\"\(colour)\"/>" }
            }
            if let last = series.points.last {
                let label = (panel.series.count > 1 ? (k == 0 ? "systolic " : "diastolic ") : "latest ") + Fmt.value(last.value) + (k == 1 ? " (dashed)" : "")
                s += "<text class=\"unit\" x=\"8\" y=\"\(f(top + 40 + Double(k) * 12))\">\(HTML.esc(label))</text>"
            }
        }
        return s + "</g>"
    }

    func attentionStrip(top: Double) -> String {
        let a = report.analysis
        let maxW = Double(a.attention.max() ?? 1)
        var s = "<g class=\"attention-strip\"><text class=\"lane-title\" x=\"8\" y=\"\(f(top + 12))\">Model attention</text>"
        s += "<text class=\"unit\" x=\"8\" y=\"\(f(top + 26))\">darker = more weight</text>"
        let dates = a.visits.map { a.record.visits[$0].date }
        let gaps = zip(dates.dropFirst(), dates).map { x($0.0) - x($0.1) }
        let w = max(3, min(14, (gaps.min() ?? 14) - 1))
        for (t, date) in dates.enumerated() {
            let weight = Double(a.attention[t])
            s += "<rect data-visit=\"\(a.visits[t] + 1)\" x=\"\(f(x(date) - w / 2))\" y=\"\(f(top))\" width=\"\(f(w))\" height=\"22\" fill=\"\(Palette.sequential(maxW > 0 ? weight / maxW : 0))\" stroke=\"#666\" stroke-width=\"0.4\"><title>visit \(a.visits[t] + 1), \(Fmt.day(date)): weight \(Fmt.weight(a.attention[t]))</title></rect>"
        }
        if let peak = a.attention.indices.max(by: { a.attention[$0] < a.attention[$1] }) {
            let px = x(dates[peak])
            s += "<text class=\"axis\" x=\"\(f(px))\" y=\"\(f(top + 34))\" text-anchor=\"\(px > Self.left + plotWidth * 0.8 ? "end" : "middle")\">▲ most weight: visit \(a.visits[peak] + 1), \(Fmt.weight(a.attention[peak]))</text>"
        }
        return s + "</g>"
    }

    /// The numbers behind the chart: every value drawn, every medicine period, every visit's weight.
    func tables() -> String {
        var rows: [[String]] = []
        for series in t.series {
            var seen: [String: Int] = [:]
            for p in series.points {
                let day = Fmt.day(p.date)
                let n = seen[day, default: 0]; seen[day] = n + 1
                rows.append([HTML.esc(series.name), day, HTML.num("lab:\(series.feature):\(day):\(n)", Fmt.value(p.value), tag: "td"), HTML.esc(series.unit)])
            }
        }
        let labs = HTML.table(caption: "Measurements up to the review date", headers: ["Measure", "Date", "Value", "Unit"], rows: rows)
        let meds = HTML.table(caption: "Glucose-lowering medicines", headers: ["Medicine", "Option", "Started", "Stopped"], rows: t.drugs.map { d in
            [HTML.esc(d.display), HTML.esc(d.option), Fmt.day(d.start), d.end.map(Fmt.day) ?? "still taken on the review date"]
        })
        return HTML.behind(labs + meds, summary: "The measurements and medicines behind this chart")
    }

    func f(_ v: Double) -> String { Fmt.coordinate(v) }
}
