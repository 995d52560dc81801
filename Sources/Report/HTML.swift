import Foundation
import Patients

/// Escaping and number formats of the page. Every number the page shows goes through `Fmt`, in
/// the same format the shell prints it, and carries a `data-check` key so that the browser tests
/// can find each one and hold it against the shell's `--json`.
enum HTML {
    /// Text for an element's content or a quoted attribute.
    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A number shown on the page, tagged for the tests: `<span data-check="key">text</span>`
    /// (or the same on a table cell with `tag: "td"`).
    static func num(_ key: String, _ text: String, tag: String = "span", attrs: String = "") -> String {
        "<\(tag) data-check=\"\(esc(key))\"\(attrs.isEmpty ? "" : " " + attrs)>\(esc(text))</\(tag)>"
    }

    /// A table: a caption, header cells and rows of already-escaped cell HTML.
    static func table(caption: String, headers: [String], rows: [[String]], cls: String = "data") -> String {
        var s = "<table class=\"\(cls)\"><caption>\(esc(caption))</caption><thead><tr>"
        for h in headers { s += "<th scope=\"col\">\(esc(h))</th>" }
        s += "</tr></thead><tbody>"
        for r in rows {
            s += "<tr>"
            for c in r { s += c.hasPrefix("<td") || c.hasPrefix("<th") ? c : "<td>\(c)</td>" }
            s += "</tr>"
        }
        return s + "</tbody></table>"
    }

    /// The table behind a chart, for screen readers and anyone who wants the numbers: folded
    /// under a summary on screen, in the page's reading order right after the chart.
    static func behind(_ table: String, summary: String = "The numbers behind this chart") -> String {
        "<details class=\"behind\"><summary>\(esc(summary))</summary>\(table)</details>"
    }
}

/// The shell's formats, one place.
enum Fmt {
    /// A chart coordinate to one decimal, without `String(format:)` (a heat map has thousands).
    static func coordinate(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let tenths = Int((v * 10).rounded())
        let whole = abs(tenths) / 10, frac = abs(tenths) % 10
        return (tenths < 0 ? "-" : "") + String(whole) + (frac == 0 ? "" : "." + String(frac))
    }
    static func percent(_ p: Float) -> String { String(format: "%.1f%%", 100 * p) }
    static func weight(_ w: Float) -> String { String(format: "%.3f", w) }
    /// Signed to five places; an exact zero reads +0.00000 whatever its sign bit (JSON drops it).
    static func attribution(_ a: Double) -> String { String(format: "%+.5f", a == 0 ? 0 : a) }
    static func delta(_ d: Double) -> String { String(format: "%+.2e", d) }
    static func probability(_ p: Double) -> String { String(format: "%.3f", p) }
    static func value(_ v: Double) -> String { String(format: "%.1f", v) }
    static func day(_ d: Date) -> String { ClinicalCalendar.dayString(d) }
}
