import Foundation
import Patients
import Review

/// Integrated-gradient attributions as a feature × visit heat map: red pushed the model toward
/// the explained option, blue away from it (ColorBrewer RdBu, colour by the square root of the
/// magnitude), with + and − marks on the
/// stronger cells so the sign survives greyscale; then the strongest cells with their raw values,
/// units and dates, each feature's total, and the completeness check.
struct HeatMap {
    let report: CaseReport
    var e: Explanation { report.explanation }
    var a: PatientAnalysis { report.analysis }
    static let left = 190.0, cellHeight = 13.0

    var scale: Double { e.attributions.map(abs).max() ?? 0 }

    /// Features drawn: those with a cell of at least 1 % of the largest (the rest are listed under the map).
    var shownFeatures: [Int] {
        let s = scale
        return (0..<e.features).filter { f in (0..<e.visits).contains { abs(e.attribution(t: $0, f: f)) >= 0.01 * s && s > 0 } }
    }

    func name(_ f: Int) -> String {
        let id = a.model.file.features[f]
        if let def = report.pack.features.definition(id: id) { return def.name }
        if id.hasSuffix("_missing"), let def = report.pack.features.definition(id: String(id.dropLast(8))) { return def.name + " missing" }
        return id
    }

    func svg() -> String {
        let rows = shownFeatures
        let T = e.visits
        let cell = min(20, 740 / Double(max(T, 1)))
        let width = Self.left + cell * Double(T) + 20
        let top = 22.0
        let h = top + Double(rows.count) * Self.cellHeight + 66
        let s = scale
        var out = "<svg class=\"chart\" id=\"heatmap-chart\" viewBox=\"0 0 \(f(max(width, 960))) \(f(h))\" width=\"100%\" role=\"img\" aria-labelledby=\"heatmap-chart-title\">"
        out += "<title id=\"heatmap-chart-title\">Integrated-gradient attributions toward \(HTML.esc(a.treatments[e.target].name)) for each feature at each of the \(T) visits the model saw; red toward, blue away.</title>"
        // Visit numbers along the top.
        let every = max(1, Int((24 / cell).rounded(.up)))
        for t in 0..<T where t % every == 0 || t == T - 1 {
            out += "<text class=\"axis\" x=\"\(f(Self.left + (Double(t) + 0.5) * cell))\" y=\"14\" text-anchor=\"middle\">\(a.visits[t] + 1)</text>"
        }
        for (r, fi) in rows.enumerated() {
            let y = top + Double(r) * Self.cellHeight
            let label = name(fi).count > 28 ? String(name(fi).prefix(27)) + "…" : name(fi)
            out += "<text class=\"feature\" x=\"\(f(Self.left - 6))\" y=\"\(f(y + 10))\" text-anchor=\"end\"><title>\(HTML.esc(name(fi)))</title>\(HTML.esc(label))</text>"
            for t in 0..<T {
                let v = e.attribution(t: t, f: fi)
                let x = Self.left + Double(t) * cell
                out += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell - 0.5))\" height=\"\(f(Self.cellHeight - 0.5))\" fill=\"\(Palette.signed(v, scale: s))\"/>"
                if s > 0 && abs(v) >= 0.25 * s {
                    out += "<text class=\"sign\" x=\"\(f(x + cell / 2))\" y=\"\(f(y + 10))\" text-anchor=\"middle\" fill=\"\(abs(v) >= 0.6 * s ? "#fff" : "#000")\">\(v > 0 ? "+" : "−")</text>"
                }
            }
        }
        // Legend: the colour goes with the square root of the magnitude (see `Palette.signed`).
        let ly = top + Double(rows.count) * Self.cellHeight + 18
        out += "<g class=\"legend\">"
        let stops = 21
        for i in 0..<stops {
            let x = Double(i) / Double(stops - 1) * 2 - 1
            let v = (x < 0 ? -1 : 1) * x * x * s
            out += "<rect x=\"\(f(Self.left + Double(i) * 20))\" y=\"\(f(ly))\" width=\"20\" height=\"12\" fill=\"\(Palette.signed(v, scale: s))\" stroke=\"#999\" stroke-width=\"0.3\"/>"
        }
        let span = Double(stops) * 20
        for (x, label) in [(0.0, "−\(String(format: "%.4f", s))"), (0.25, "−\(String(format: "%.4f", s / 4))"), (0.5, "0"), (0.75, "+\(String(format: "%.4f", s / 4))"), (1.0, "+\(String(format: "%.4f", s))")] {
            out += "<text class=\"axis\" x=\"\(f(Self.left + x * span))\" y=\"\(f(ly + 24))\" text-anchor=\"\(x == 0 ? "start" : (x == 1 ? "end" : "middle"))\">\(label)</text>"
        }
        out += "<text class=\"axis\" x=\"\(f(Self.left + span + 12))\" y=\"\(f(ly + 10))\">blue: away from \(HTML.esc(a.treatments[e.target].name)); red: toward it</text>"
        out += "<text class=\"axis\" x=\"\(f(Self.left + span + 12))\" y=\"\(f(ly + 24))\">colour grows with the square root of the magnitude</text>"
        out += "<text class=\"axis\" x=\"\(f(Self.left))\" y=\"\(f(ly + 40))\">+ and − mark cells beyond a quarter of the largest. Columns are visits (numbers above), oldest left.</text>"
        out += "</g></svg>"
        return out
    }

    /// Completeness: the attributions' sum against the change in probability from the baseline.
    func completeness() -> String {
        let r = e.result
        let name = HTML.esc(a.treatments[e.target].name)
        var s = "<p class=\"completeness\">p(\(name)) = \(HTML.num("p_input", Fmt.probability(r.probabilityAtInput))); at the baseline (zeros: the population mean, an average patient) \(HTML.num("p_baseline", Fmt.probability(r.probabilityAtBaseline))). "
        s += "The attributions sum to \(HTML.num("ig_sum", String(format: "%+.5f", e.total))); completeness delta \(HTML.num("delta", Fmt.delta(r.delta))) "
        s += "(\(HTML.num("delta_pct", String(format: "%.2f%%", 100 * r.relativeDelta))) of the change), \(r.rule.rawValue) with \(HTML.num("steps", String(r.steps))) steps."
        if r.relativeDelta > 0.01 { s += " <strong class=\"warn\">⚠ The delta is above 1 % of the change: the attributions are approximate (`explain --steps auto`).</strong>" }
        return s + "</p>"
    }

    /// The strongest cells with raw values, units and dates.
    func strongestTable() -> String {
        let rows = e.strongest(report.options.strongestCells).enumerated().map { rank, c -> [String] in
            let id = a.model.file.features[c.f]
            let visit = a.visits[c.t] + 1
            return [String(rank + 1), HTML.num("ig:\(visit):\(id)", Fmt.attribution(c.attribution), tag: "td", attrs: "class=\"\(c.attribution >= 0 ? "pos" : "neg")\""),
                    c.attribution >= 0 ? "toward" : "away", HTML.esc(name(c.f)) + " <code>\(HTML.esc(id))</code>", String(visit),
                    Fmt.day(a.record.visits[a.visits[c.t]].date), HTML.num("raw:\(visit):\(id)", FeatureText.describe(id, a.raw[c.t][c.f], report.pack), tag: "td")]
        }
        return HTML.table(caption: "Strongest feature-at-visit cells", headers: ["#", "Attribution", "Direction", "Feature", "Visit", "Date", "Value at the visit"], rows: rows, cls: "data strongest")
    }

    /// Each feature's total over the visits, strongest first.
    func featureTotalsTable() -> String {
        let by = e.byFeature
        let order = by.indices.sorted { abs(by[$0]) > abs(by[$1]) }.prefix(report.options.strongestCells)
        return HTML.table(caption: "Per feature, over the timeline", headers: ["Feature", "Total attribution"], rows: order.map { f in
            [HTML.esc(name(f)) + " <code>\(HTML.esc(a.model.file.features[f]))</code>", HTML.num("igf:\(a.model.file.features[f])", Fmt.attribution(by[f]), tag: "td")]
        }, cls: "data totals")
    }

    /// Every drawn cell, as a feature × visit table.
    func matrixTable() -> String {
        let rows = shownFeatures.map { fi -> [String] in
            let id = a.model.file.features[fi]
            return ["<th scope=\"row\">\(HTML.esc(name(fi)))</th>"] + (0..<e.visits).map { t in HTML.num("igm:\(a.visits[t] + 1):\(id)", Fmt.attribution(e.attribution(t: t, f: fi)), tag: "td") }
        }
        let hidden = (0..<e.features).filter { !shownFeatures.contains($0) }.map { name($0) }
        return HTML.behind(HTML.table(caption: "Attribution of each feature at each visit", headers: ["Feature"] + (0..<e.visits).map { "visit \(a.visits[$0] + 1)" }, rows: rows, cls: "data matrix")
                           + (hidden.isEmpty ? "" : "<p>No cell above 1 % of the largest, not drawn: \(HTML.esc(hidden.joined(separator: ", "))).</p>"))
    }

    func f(_ v: Double) -> String { Fmt.coordinate(v) }
}
