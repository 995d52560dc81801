import ArgumentParser
import Foundation
import Patients
import Review

/// `attention`: how the model weighed the patient's visits.
struct AttentionCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "The model's attention weight on each visit, with what changed at it, as a table and a heat strip.",
        discussion: "Attention pools the GRU's states: it shows which visits the model looked at, not why it chose; `explain` decomposes the output.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: PatientSelection
    @Flag(help: "Print as JSON.") var json = false

    struct Row: Encodable { var visit: Int; var date: String; var weight: Float; var changes: [String] }

    func run(in session: Session) throws {
        let a = try PatientAnalysis(session: session, selection: selection)
        try a.audit(session, .attentionShown)
        let record = a.record
        let rows = zip(a.visits, a.attention).map { i, w in Row(visit: i + 1, date: ClinicalCalendar.dayString(record.visits[i].date), weight: w, changes: FeatureText.changes(record, i, session.pack)) }
        if json { try session.out.json(rows); return }
        let out = session.out
        a.header(out, "Attention over visits")
        let shades: [Character] = [" ", "░", "▒", "▓", "█"]
        let maxW = a.attention.max() ?? 1
        out.print("heat strip (oldest → index visit): " + String(a.attention.map { shades[min(4, Int(($0 / max(maxW, 1e-9)) * 4 + 0.5))] }))
        out.print(Table(headers: ["VISIT", "DATE", "WEIGHT", "", "WHAT CHANGED"],
                        rows: rows.map { [String($0.visit), $0.date, String(format: "%.3f", $0.weight), Bars.bar(Double($0.weight / max(maxW, 1e-9)), width: 12), $0.changes.joined(separator: "; ")] },
                        rightAligned: [0, 2]).render(width: out.width))
        out.print(out.dim(String(format: "Weights sum to %.4f over %d visits.", a.attention.reduce(0, +), a.attention.count)))
    }
}
