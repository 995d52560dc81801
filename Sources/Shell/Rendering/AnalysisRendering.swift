import Foundation
import Patients
import Guidelines
import Review

/// How the terminal shows an analysis: the standing header, the contraindication warning, the
/// guideline status marks.
extension PatientAnalysis {
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

    /// Says so, in words, when the model is uncertain (`PatientAnalysis.uncertainBelow`).
    func noteIfUncertain(_ out: Output) {
        guard uncertain else { return }
        out.print(out.yellow(String(format: "The model is uncertain: its top option, %@, has %.0f%%, below the %.0f%% at which Rounds calls it confident. Weigh the options below on their merits.",
                                    treatments[top].name, 100 * probabilities[top], 100 * Self.uncertainBelow)))
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
