import ArgumentParser
import Foundation
import Patients
import Review

/// `attention`: how the model weighed the patient's visits.
struct AttentionCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "The model's attention weight on each visit, with what changed at it, as a table and a heat strip.",
        discussion: """
        With a retain-v1 model (RETAIN), the weights come from a network reading the history from the
        index visit back, and the output is linear in the weighted visits: CONTRIBUTION is each visit's
        exact share of the top option's logit (they add up to it, with the output bias). With a
        gru-attention-v1 model the weights pool the GRU's states, each of which mixes every earlier
        visit: they show which states the model looked at, not why it chose. `explain` decomposes the output.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: PatientSelection
    @Flag(help: "Print as JSON.") var json = false

    struct Row: Encodable {
        var visit: Int; var date: String; var weight: Float
        /// The visit's exact share of the top option's logit (retain-v1 models; absent otherwise).
        var contribution: Float?
        var changes: [String]
    }

    func run(in session: Session) throws {
        let a = try PatientAnalysis(session: session, selection: selection)
        try a.audit(session, .attentionShown)
        let record = a.record
        let rows = a.visits.enumerated().map { j, i in
            Row(visit: i + 1, date: ClinicalCalendar.dayString(record.visits[i].date), weight: a.attention[j],
                contribution: a.contributions.map { $0[j][a.top] }, changes: FeatureText.changes(record, i, session.pack))
        }
        struct JSONView: Encodable { var patient: String; var notice: ModelNotice; var visits: [Row] }
        if json { try session.out.json(JSONView(patient: record.id, notice: a.notice, visits: rows)); return }
        let out = session.out
        a.header(out, "Attention over visits")
        let shades: [Character] = [" ", "░", "▒", "▓", "█"]
        let maxW = a.attention.max() ?? 1
        out.print("heat strip (oldest → index visit): " + String(a.attention.map { shades[min(4, Int(($0 / max(maxW, 1e-9)) * 4 + 0.5))] }))
        if a.contributions != nil {
            out.print(Table(headers: ["VISIT", "DATE", "WEIGHT", "", "CONTRIBUTION", "WHAT CHANGED"],
                            rows: rows.map { [String($0.visit), $0.date, String(format: "%.3f", $0.weight), Bars.bar(Double($0.weight / max(maxW, 1e-9)), width: 12),
                                              String(format: "%+.3f", $0.contribution ?? 0), $0.changes.joined(separator: "; ")] },
                            rightAligned: [0, 2, 4]).render(width: out.width))
        } else {
            out.print(Table(headers: ["VISIT", "DATE", "WEIGHT", "", "WHAT CHANGED"],
                            rows: rows.map { [String($0.visit), $0.date, String(format: "%.3f", $0.weight), Bars.bar(Double($0.weight / max(maxW, 1e-9)), width: 12), $0.changes.joined(separator: "; ")] },
                            rightAligned: [0, 2]).render(width: out.width))
        }
        out.print(out.dim(String(format: "Weights sum to %.4f over %d visits.", a.attention.reduce(0, +), a.attention.count)))
        if a.contributions != nil {
            out.print(out.dim("CONTRIBUTION: each visit's exact share of the logit of the top option, \(a.treatments[a.top].name) (RETAIN: they add up to it with the output bias)."))
        }
    }
}
