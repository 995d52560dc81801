import ArgumentParser
import Foundation
import Guidelines
import Patients
import Review

/// `recommend`: the model's distribution over the options, each beside its guideline status.
struct RecommendCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "The model's probability for each treatment option, beside the option's guideline status.",
        discussion: "A contraindicated option is flagged whatever its probability, and the model's top choice being contraindicated is called out. A top option below 50% is called uncertain. The model supports the clinician's decision; it does not make it.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: PatientSelection
    @Flag(help: "Print as JSON.") var json = false

    /// `status` is the option's worst finding (as decisions have always recorded it); `standing`
    /// what the screen shows: its indication beside its caution, taken or not; `standingLabel` in words.
    struct Row: Encodable { var treatment: String; var name: String; var probability: Float; var status: GuidelineStatus; var standing: Standing; var standingLabel: String; var rank: Int }
    struct JSONView: Encodable {
        var patient: String; var indexVisit: String; var synthetic: Bool; var modelVersion: String?; var modelSha256: String
        var options: [Row]; var top: String; var topContraindicated: Bool
        /// The top option has less than `uncertaintyThreshold` of the probability.
        var uncertain: Bool; var uncertaintyThreshold: Float
        var findings: [Finding]
        /// Deintensification findings: drugs taken that a rule asks to reduce or stop (no model option says so).
        var deintensify: [Finding]
        var notice: ModelNotice
    }

    func run(in session: Session) throws {
        let a = try PatientAnalysis(session: session, selection: selection)
        try a.audit(session, .recommendationShown)
        let record = a.record
        let rows = a.displayOrder.enumerated().map { rank, k in Row(treatment: a.treatments[k].id, name: a.treatments[k].name, probability: a.probabilities[k], status: a.status(k), standing: a.standing(k), standingLabel: a.standing(k).label, rank: rank + 1) }
        if json {
            try session.out.json(JSONView(patient: record.id, indexVisit: a.indexDate, synthetic: record.origin == .synthetic, modelVersion: a.model.label,
                                          modelSha256: a.model.sha256, options: rows, top: a.treatments[a.top].id, topContraindicated: a.standing(a.top).contraindicated,
                                          uncertain: a.uncertain, uncertaintyThreshold: PatientAnalysis.uncertainBelow,
                                          findings: a.guidelines.findings, deintensify: a.guidelines.deintensifications, notice: a.notice))
            return
        }
        let out = session.out
        a.header(out, "Recommendation")
        a.warnIfTopContraindicated(out)
        a.noteIfUncertain(out)
        let barWidth = max(10, min(30, out.width - 70))
        for (r, k) in zip(rows, a.displayOrder) {
            let name = r.name.padding(toLength: 24, withPad: " ", startingAt: 0)
            out.print(String(format: "%2d  %@ %@ %5.1f%%  ", r.rank, name, Bars.bar(Double(r.probability), width: barWidth), 100 * r.probability) + a.statusText(out, k))
        }
        a.warnDeintensify(out)
        out.print(out.dim("Model \(a.model.label) (sha256 \(a.model.sha256.prefix(12))). `guidelines` gives the reasons; `explain` what drove the model; `attention` the visits it weighed."))
    }
}
