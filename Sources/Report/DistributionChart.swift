import Foundation
import Guidelines
import Review

/// The model's distribution over the eight options, most probable first, each bar beside the
/// option's guideline standing (its strongest indication beside its strongest caution, taken or not). A contraindicated option is flagged in words, with a mark and a
/// hatched bar, however probable the model finds it.
struct DistributionChart {
    let report: CaseReport
    static let width = 960.0, rowHeight = 26.0, nameWidth = 210.0, barWidth = 360.0

    /// The standing's mark: ✖ contraindicated, ! a caution or data to recheck, ✓ indicated, ● already taken, · no rule.
    static func mark(_ s: Standing) -> String {
        if s.contraindicated { return "✖" }
        if s.against != nil { return "!" }
        if s.taking { return "●" }
        if s.indication != nil { return "✓" }
        return "·"
    }

    /// The class that styles a standing: contraindicated, caution (any reason against), or plain.
    static func cls(_ s: Standing) -> String { s.contraindicated ? "contraindicated" : (s.against != nil ? "caution" : "plain") }

    func svg() -> String {
        let a = report.analysis
        let order = a.displayOrder
        let h = Double(order.count) * Self.rowHeight + 30
        var s = "<svg class=\"chart\" id=\"distribution-chart\" viewBox=\"0 0 \(Self.width) \(h)\" width=\"100%\" role=\"img\" aria-labelledby=\"distribution-chart-title\">"
        s += "<title id=\"distribution-chart-title\">The model's probability for each of the \(order.count) options, most probable first, beside each option's guideline standing.</title>"
        s += "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f4c7c3\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#a50f15\" stroke-width=\"2.5\"/></pattern></defs>"
        s += "<text class=\"axis\" x=\"\(Self.nameWidth)\" y=\"12\">0%</text><text class=\"axis\" x=\"\(Self.nameWidth + Self.barWidth)\" y=\"12\" text-anchor=\"end\">100%</text>"
        for (rank, k) in order.enumerated() {
            let y = 20 + Double(rank) * Self.rowHeight
            let p = a.probabilities[k], standing = a.standing(k)
            let bad = standing.contraindicated
            s += "<g class=\"option\" data-treatment=\"\(a.treatments[k].id)\">"
            if bad { s += "<rect x=\"0\" y=\"\(y - 2)\" width=\"\(Self.width)\" height=\"\(Self.rowHeight - 2)\" fill=\"#fdecea\"/>" }
            s += "<text class=\"option-name\" x=\"4\" y=\"\(y + 15)\">\(rank + 1). \(HTML.esc(a.treatments[k].name))</text>"
            s += "<rect x=\"\(Self.nameWidth)\" y=\"\(y + 2)\" width=\"\(Self.barWidth)\" height=\"16\" fill=\"none\" stroke=\"#ccc\" stroke-width=\"0.6\"/>"
            let w = max(1, Double(p) * Self.barWidth)
            s += "<rect class=\"bar\" x=\"\(Self.nameWidth)\" y=\"\(y + 2)\" width=\"\(String(format: "%.1f", w))\" height=\"16\" fill=\"\(bad ? "url(#hatch)" : (k == a.top ? "#08306b" : "#6b8bb5"))\" stroke=\"\(bad ? "#a50f15" : "none")\" stroke-width=\"1.5\"/>"
            s += "<text class=\"pct\" x=\"\(Self.nameWidth + Self.barWidth + 8)\" y=\"\(y + 15)\">\(Fmt.percent(p))</text>"
            s += "<text class=\"status status-\(Self.cls(standing))\" x=\"\(Self.nameWidth + Self.barWidth + 80)\" y=\"\(y + 15)\">\(Self.mark(standing)) \(HTML.esc(standing.label))\(k == a.top ? " · first choice" : "")</text>"
            s += "</g>"
        }
        return s + "</svg>"
    }

    /// The distribution as a table: every probability and status, checked by the tests against `recommend --json`.
    func table() -> String {
        let a = report.analysis
        let rows = a.displayOrder.enumerated().map { rank, k -> [String] in
            let id = a.treatments[k].id, standing = a.standing(k)
            return [String(rank + 1), HTML.esc(a.treatments[k].name), HTML.num("p:\(id)", Fmt.percent(a.probabilities[k]), tag: "td"),
                    HTML.num("standing:\(id)", standing.label, tag: "td", attrs: "class=\"status-\(Self.cls(standing))\"")]
        }
        return HTML.table(caption: "Probability and guideline standing of each option", headers: ["Rank", "Option", "Probability", "Guideline standing"], rows: rows)
    }
}
