import Guidelines
import Review

/// How the terminal shows an analysis: the standing header, the contraindication warning, the
/// guideline status marks.
extension PatientAnalysis {
    /// The standing note every model view carries.
    func header(_ out: Output, _ what: String) {
        out.print(out.bold("\(what) · \(record.id) · as of visit \(index + 1) of \(record.visits.count) (\(indexDate))"))
        if record.origin == .synthetic { out.print(out.dim("Synthetic patient; a model trained on synthetic data. Decision support only.")) }
    }

    /// Loud when the model's first choice is one the guidelines contraindicate.
    func warnIfTopContraindicated(_ out: Output) {
        guard standing(top).contraindicated else { return }
        let reasons = contraindications(top).map(\.message)
        out.print(out.red(out.bold("⚠ THE MODEL'S TOP CHOICE, \(treatments[top].name.uppercased()), IS CONTRAINDICATED:")))
        for r in reasons { out.print(out.red("  " + r)) }
    }

    func statusText(_ out: Output, _ k: Int) -> String { out.standing(standing(k)) }

    /// The deintensifications the rules ask for, which no model option expresses.
    func warnDeintensify(_ out: Output) {
        for f in guidelines.deintensifications {
            let names = f.treatments.compactMap { t in treatments.first { $0.id == t }?.name }.joined(separator: ", ")
            out.print(out.yellow("↓ Deintensify \(names) (not a model option): ") + f.message + out.dim(" · rule \(f.rule)"))
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
