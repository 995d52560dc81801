import ArgumentParser
import Explanations
import Foundation
import Guidelines
import Patients
import Review

/// `explain`: integrated gradients of one option's probability over every feature at every visit.
struct ExplainCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Which labs, conditions and medications at which visits pushed the model toward a treatment (integrated gradients).",
        discussion: """
        Attributions of the option's probability (default: the model's top choice) over the standardized input the model saw,
        as Captum's IntegratedGradients computes them. Baseline `zeros` is the population mean (an average patient);
        `first-visit` is the patient's own first visit repeated. The convergence delta (sum of attributions minus the
        change in probability) is shown with every explanation; `--steps auto` raises the steps until it is within 1 %.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The treatment option to explain (default: the model's top choice).", valueName: "treatment")) var treatment: String?
    @OptionGroup var selection: PatientSelection
    @Option(help: ArgumentHelp("Integration steps, or `auto`.", valueName: "n|auto")) var steps: String = "50"
    @Option(help: ArgumentHelp("riemann_left, riemann_right, riemann_middle, riemann_trapezoid or gausslegendre.", valueName: "method")) var method: String = "gausslegendre"
    @Option(help: ArgumentHelp("zeros (the population mean) or first-visit.", valueName: "baseline")) var baseline: String = "zeros"
    @Option(help: "How many feature-at-visit cells to list.") var top: Int = 10
    @Flag(help: "Print the contract's machine-readable form (JSON).") var json = false

    func validate() throws {
        guard IntegrationRule(rawValue: method) != nil else { throw ValidationError("--method must be one of \(IntegrationRule.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard steps == "auto" || (Int(steps).map { $0 >= 2 && $0 <= 5000 } ?? false) else { throw ValidationError("--steps takes a number from 2 to 5000, or auto") }
        guard ["zeros", "first-visit"].contains(baseline) else { throw ValidationError("--baseline must be zeros or first-visit") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    }

    struct Contract: Encodable {
        struct IG: Encodable { var target: Int; var method: String; var steps: Int; var baseline: String; var attributions: [[Double]]; var delta: Double }
        var model_sha256: String; var features: [String]; var treatments: [String]; var input: [[Float]]
        var probabilities: [Float]; var attention: [Float]; var ig: IG
        var patient: String; var synthetic: Bool; var target_status: String; var target_standing: Standing
        var notice: ModelNotice
    }

    func run(in session: Session) throws {
        let a = try PatientAnalysis(session: session, selection: selection)
        let record = a.record
        let ids = a.treatments.map(\.id)
        let target = try treatment.map(a.treatmentIndex) ?? a.top
        let F = a.model.file.model.shape.features, T = a.raw.count
        let rule = IntegrationRule(rawValue: method)!
        let explanation = Explanation(a, target: target, rule: rule, steps: steps == "auto" ? nil : Int(steps)!, baseline: Explanation.Baseline(rawValue: baseline)!)
        let r = explanation.result
        try a.audit(session, .explanationShown, detail: ["target": ids[target], "method": method, "steps": String(r.steps), "delta": String(format: "%.3g", r.delta)])
        let features = a.model.file.features
        if json {
            try session.out.json(Contract(model_sha256: a.model.sha256, features: features, treatments: ids,
                                          input: (0..<T).map { Array(a.input[($0 * F)..<($0 * F + F)]) },
                                          probabilities: a.probabilities, attention: a.attention,
                                          ig: .init(target: target, method: rule.rawValue, steps: r.steps, baseline: baseline,
                                                    attributions: (0..<T).map { Array(r.attributions[($0 * F)..<($0 * F + F)]) }, delta: r.delta),
                                          patient: record.id, synthetic: record.origin == .synthetic, target_status: a.status(target).rawValue, target_standing: a.standing(target), notice: a.notice))
            return
        }
        let out = session.out
        a.header(out, "Explanation of \(a.treatments[target].name)")
        a.warnIfTopContraindicated(out)
        out.print(String(format: "p(%@) = %.3f; at the baseline (%@) %.3f: change %+.4f. Guideline status: ", a.treatments[target].name, r.probabilityAtInput,
                         baseline == "zeros" ? "zeros = the population mean, an average patient" : "the first visit repeated", r.probabilityAtBaseline, r.change)
                  + a.statusText(out, target))
        let deltaLine = String(format: "Completeness: attributions sum to %+.5f; delta %+.2e (%.2f%% of the change), %@ with %d steps.",
                               r.attributions.reduce(0, +), r.delta, 100 * r.relativeDelta, rule.rawValue, r.steps)
        out.print(r.relativeDelta > 0.01 ? out.yellow(deltaLine + " ⚠ above 1 %: raise --steps (or --steps auto).") : deltaLine)
        out.print(out.dim("Positive (▶) pushed toward \(a.treatments[target].name); negative (◀) away from it."))
        let scale = r.attributions.map(abs).max() ?? 1
        // Top cells.
        let cells = explanation.strongest(top)
        out.print("")
        out.print(out.bold("Strongest feature-at-visit cells"))
        out.print(Table(headers: ["ATTRIBUTION", "", "FEATURE", "VISIT", "DATE", "VALUE"], rows: cells.map { c in
            let t = c.t, f = c.f
            let date = ClinicalCalendar.dayString(record.visits[a.visits[t]].date)
            return [String(format: "%+.5f", c.attribution), Bars.signed(c.attribution, scale: scale, half: 8), features[f], "\(a.visits[t] + 1)", date, FeatureText.describe(features[f], a.raw[t][f], session.pack)]
        }, rightAligned: [0]).render(width: out.width))
        // Per-feature totals.
        let byFeature = explanation.byFeature
        let fScale = byFeature.map(abs).max() ?? 1
        out.print("")
        out.print(out.bold("Per feature, over the timeline"))
        for f in byFeature.indices.sorted(by: { abs(byFeature[$0]) > abs(byFeature[$1]) }).prefix(top) {
            out.print(String(format: "  %+.5f ", byFeature[f]) + Bars.signed(byFeature[f], scale: fScale, half: 8) + " " + features[f])
        }
        // Per-visit totals.
        out.print("")
        out.print(out.bold("Per visit"))
        let byVisit = explanation.byVisit
        let vScale = byVisit.map(abs).max() ?? 1
        for t in (0..<T).suffix(12) {
            out.print(String(format: "  visit %3d  %@  %+.5f ", a.visits[t] + 1, ClinicalCalendar.dayString(record.visits[a.visits[t]].date), byVisit[t]) + Bars.signed(byVisit[t], scale: vScale, half: 8))
        }
        if T > 12 { out.print(out.dim("  (latest 12 of \(T) visits; --json has them all)")) }
    }
}
