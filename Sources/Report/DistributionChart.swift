import Foundation
import Guidelines
import Review

/// The model's distribution over the eight options, most probable first, each bar beside the
/// option's guideline status. A contraindicated option is flagged in words, with a mark and a
/// hatched bar, however probable the model finds it.
struct DistributionChart {
    let report: CaseReport
    static let width = 960.0, rowHeight = 26.0, nameWidth = 210.0, barWidth = 420.0

    static func mark(_ s: GuidelineStatus) -> String {
        switch s {
        case .contraindicated: "✖"
        case .caution, .recheck: "!"
        case .indicated: "✓"
        case .neutral: "·"
        }
    }

    func svg() -> String {
        let a = report.analysis
        let order = a.displayOrder
        let h = Double(order.count) * Self.rowHeight + 30
        var s = "<svg class=\"chart\" id=\"distribution-chart\" viewBox=\"0 0 \(Self.width) \(h)\" width=\"100%\" role=\"img\" aria-labelledby=\"distribution-chart-title\">"
        s += "<title id=\"distribution-chart-title\">The model's probability for each of the \(order.count) options, most probable first, beside each option's guideline status.</title>"
        s += "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f4c7c3\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#a50f15\" stroke-width=\"2.5\"/></pattern></defs>"
        s += "<text class=\"axis\" x=\"\(Self.nameWidth)\" y=\"12\">0%</text><text class=\"axis\" x=\"\(Self.nameWidth + Self.barWidth)\" y=\"12\" text-anchor=\"end\">100%</text>"
        for (rank, k) in order.enumerated() {
            let y = 20 + Double(rank) * Self.rowHeight
            let p = a.probabilities[k], status = a.status(k)
            let bad = status == .contraindicated
            s += "<g class=\"option\" data-treatment=\"\(a.treatments[k].id)\">"
            if bad { s += "<rect x=\"0\" y=\"\(y - 2)\" width=\"\(Self.width)\" height=\"\(Self.rowHeight - 2)\" fill=\"#fdecea\"/>" }
            s += "<text class=\"option-name\" x=\"4\" y=\"\(y + 15)\">\(rank + 1). \(HTML.esc(a.treatments[k].name))</text>"
            s += "<rect x=\"\(Self.nameWidth)\" y=\"\(y + 2)\" width=\"\(Self.barWidth)\" height=\"16\" fill=\"none\" stroke=\"#ccc\" stroke-width=\"0.6\"/>"
            let w = max(1, Double(p) * Self.barWidth)
            s += "<rect class=\"bar\" x=\"\(Self.nameWidth)\" y=\"\(y + 2)\" width=\"\(String(format: "%.1f", w))\" height=\"16\" fill=\"\(bad ? "url(#hatch)" : (k == a.top ? "#08306b" : "#6b8bb5"))\" stroke=\"\(bad ? "#a50f15" : "none")\" stroke-width=\"1.5\"/>"
            s += "<text class=\"pct\" x=\"\(Self.nameWidth + Self.barWidth + 8)\" y=\"\(y + 15)\">\(Fmt.percent(p))</text>"
            s += "<text class=\"status status-\(status.rawValue)\" x=\"\(Self.nameWidth + Self.barWidth + 80)\" y=\"\(y + 15)\">\(Self.mark(status)) \(HTML.esc(status.label))\(k == a.top ? " · the model's first choice" : "")</text>"
            s += "</g>"
        }
        return s + "</svg>"
    }

    /// The distribution as a table: every probability and status, checked by the tests against `recommend --json`.
    func table() -> String {
        let a = report.analysis
        let rows = a.displayOrder.enumerated().map { rank, k -> [String] in
            let id = a.treatments[k].id, status = a.status(k)
            return [String(rank + 1), HTML.esc(a.treatments[k].name), HTML.num("p:\(id)", Fmt.percent(a.probabilities[k]), tag: "td"),
                    HTML.num("status:\(id)", status.rawValue, tag: "td", attrs: "class=\"status-\(status.rawValue)\"")]
        }
        return HTML.table(caption: "Probability and guideline status of each option", headers: ["Rank", "Option", "Probability", "Guideline status"], rows: rows)
    }
}
