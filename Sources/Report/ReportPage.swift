import Foundation
import Guidelines
import Patients
import Review
import Store

/// The case report as one self-contained HTML page: inline styles, inline SVG charts with their
/// words as SVG text, a table behind every chart, no script and nothing fetched from anywhere.
/// Each section has a fixed id (`report-header`, `distribution`, `timeline`, `attention`,
/// `explanation`, `guidelines`, `decisions`, `whatif`, `about`) that the tests look for.
struct ReportPage {
    let report: CaseReport
    init(_ report: CaseReport) { self.report = report }

    var a: PatientAnalysis { report.analysis }

    func render() -> String {
        var s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        s += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        // Nothing may be fetched: no scripts at all, images only from the page itself.
        s += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        s += "<meta name=\"generator\" content=\"Rounds 0.1.0\">"
        s += "<title>Case report · \(HTML.esc(report.patientLabel)) · \(a.indexDate)</title><style>\(ReportStyle.css)</style></head><body>"
        s += header()
        s += "<main>"
        s += distribution()
        s += timeline()
        s += attention()
        s += explanation()
        s += guidelines()
        s += decisions()
        if report.whatIf != nil { s += whatIf() }
        s += about()
        s += "</main></body></html>\n"
        return s
    }

    // MARK: Sections

    func header() -> String {
        let r = report.record
        var s = "<header id=\"report-header\"><p class=\"banner\">Decision support only: Rounds never replaces the clinician's judgement."
        if report.synthetic { s += " <strong>Synthetic patient</strong> from the demo cohort, not a real person; the model was trained on synthetic data." }
        s += "</p><h1>Case report · \(HTML.esc(report.patientLabel))</h1><dl class=\"facts\">"
        func item(_ k: String, _ v: String) { s += "<div><dt>\(HTML.esc(k))</dt><dd>\(v)</dd></div>" }
        if let n = report.patientName { item("Name", HTML.esc(n)) }
        item("Patient", "<span data-check=\"patient\">\(HTML.esc(report.patientLabel))</span>" + (report.options.pseudonymize ? " <small>(HMAC-SHA256 pseudonym under this site's key)</small>" : ""))
        item("Age", HTML.num("age", String(report.age)) + " on the review date")
        item("Sex", HTML.esc(r.sex.rawValue))
        item("Reviewed as of", "\(HTML.num("index_date", a.indexDate)) (\(HTML.esc(a.review.basis.rawValue))); the model's last visit: \(HTML.num("visit", String(a.index + 1))) of \(HTML.num("visits", String(r.visits.count))), \(HTML.esc(a.visitDate))")
        if let d = r.deceasedAt { item("Died", HTML.esc(ClinicalCalendar.dayString(d))) }
        item("Data", report.synthetic ? "<strong data-check=\"origin\">synthetic</strong> (demo cohort)" : "<span data-check=\"origin\">imported</span> (real record)")
        item("Model", HTML.esc(a.model.label) + "<br><code class=\"hash\" data-check=\"model_sha256\">\(a.model.sha256)</code>")
        item("Knowledge pack", "<code class=\"hash\" data-check=\"knowledge_sha256\">\(report.knowledgeSha256)</code>")
        item("Made", "\(HTML.esc(ClinicalCalendar.instantString(report.options.madeAt))) by \(HTML.esc(report.madeBy))")
        s += "</dl>" + notices() + "</header>"
        return s
    }

    /// What every model view says first: outside the model's population, inputs outside its
    /// training range, an uncertain model, deintensifications no option expresses.
    func notices() -> String {
        var s = ""
        if !a.outsidePopulation.isEmpty {
            s += "<div class=\"alarm\" role=\"alert\" id=\"population\"><p><strong>⚠ Outside the model's population</strong> (the model is for \(HTML.esc(a.population))): the model's distribution does not apply to this patient. The record and the guideline checks still apply.</p><ul>"
                + a.outsidePopulation.map { "<li>\(HTML.esc($0))</li>" }.joined() + "</ul></div>"
        }
        if report.record.origin != .synthetic {
            if a.model.file.trainingRange == nil { s += "<p class=\"note\">This model file stores no training ranges, so inputs outside them cannot be named.</p>" }
            else if a.outsideTraining.isEmpty { s += "<p class=\"note\">Every input lies within the range the model was trained on.</p>" }
            else { s += "<div class=\"caution\"><p>Inputs outside the range the model was trained on (\(a.outsideTraining.count)):</p><ul>" + a.outsideTraining.map { "<li>\(HTML.esc($0.text))</li>" }.joined() + "</ul></div>" }
        }
        return s
    }

    func distribution() -> String {
        let chart = DistributionChart(report: report)
        var s = "<section id=\"distribution\"><h2>Recommendation and guideline standing</h2>"
        s += "<p>The model's probability for each option, most probable first, beside the option's standing under the guideline rules: its strongest indication beside its strongest caution (✖ contraindicated, ! caution or recheck data, ✓ indicated, ● already taking, · no rule).</p>"
        s += topWarning(a)
        if a.uncertain {
            s += "<p class=\"caution\">The model is uncertain: its top option, \(HTML.esc(a.treatments[a.top].name)), has \(Fmt.percent(a.probabilities[a.top])), below the \(String(format: "%.0f%%", 100 * PatientAnalysis.uncertainBelow)) at which Rounds calls it confident. Weigh the options on their merits.</p>"
        }
        for f in a.guidelines.deintensifications {
            let names = f.treatments.compactMap { t in a.treatments.first { $0.id == t }?.name }.joined(separator: ", ")
            s += "<p class=\"caution\">↓ Deintensify \(HTML.esc(names)) (not a model option): \(HTML.esc(f.message)) · rule <code>\(HTML.esc(f.rule))</code></p>"
        }
        s += "<figure>" + chart.svg() + "</figure>" + HTML.behind(chart.table())
        return s + "</section>"
    }

    func topWarning(_ a: PatientAnalysis) -> String {
        guard a.standing(a.top).contraindicated else { return "" }
        return "<p class=\"alarm\" role=\"alert\"><strong>⚠ The model's top choice, \(HTML.esc(a.treatments[a.top].name)), is CONTRAINDICATED:</strong> "
            + a.contraindications(a.top).map { HTML.esc($0.message) }.joined(separator: " ") + "</p>"
    }

    func timeline() -> String {
        let chart = TimelineChart(report: report)
        return "<section id=\"timeline\"><h2>Timeline</h2><p>HbA1c, eGFR, weight and blood pressure up to the review date; each glucose-lowering medicine as a bar over the period it was taken (▶ started, ▮ stopped, an arrow if still taken); and, on the same time axis, the model's attention over the \(a.visits.count) visits it saw.</p>"
            + "<figure>" + chart.svg() + "</figure>" + chart.tables() + "</section>"
    }

    func attention() -> String {
        let rec = a.record
        // RETAIN models give each visit's exact share of the top option's logit; `attention` shows it too.
        let rows = a.visits.enumerated().map { j, i -> [String] in
            [String(i + 1), ClinicalCalendar.dayString(rec.visits[i].date), HTML.num("att:\(i + 1)", Fmt.weight(a.attention[j]), tag: "td")]
                + (a.contributions.map { [HTML.num("contrib:\(i + 1)", String(format: "%+.3f", $0[j][a.top]), tag: "td")] } ?? [])
                + [HTML.esc(FeatureText.changes(rec, i, report.pack).joined(separator: "; "))]
        }
        let top = a.attention.indices.sorted { a.attention[$0] > a.attention[$1] }.prefix(3)
        var s = "<section id=\"attention\"><h2>Attention over visits</h2>"
        s += "<p>The strip under the timeline shows the weight the model's attention put on each visit. It shows which visits the model looked at, not why it chose; the explanation below decomposes the output. Most weight: "
        s += top.map { t in "visit \(a.visits[t] + 1) (\(ClinicalCalendar.dayString(rec.visits[a.visits[t]].date)), \(Fmt.weight(a.attention[t])))" }.joined(separator: ", ")
        s += String(format: ". The weights sum to %.4f over %d visits.</p>", a.attention.reduce(0, +), a.attention.count)
        if a.contributions != nil {
            s += "<p>Contribution: each visit's exact share of the logit of the top option, \(HTML.esc(a.treatments[a.top].name)) (RETAIN: the shares add up to it with the output bias).</p>"
        }
        let headers = ["Visit", "Date", "Weight"] + (a.contributions != nil ? ["Contribution"] : []) + ["What changed"]
        s += HTML.behind(HTML.table(caption: "Attention weight of each visit", headers: headers, rows: rows), summary: "Every visit's weight and what changed at it")
        return s + "</section>"
    }

    func explanation() -> String {
        let h = HeatMap(report: report)
        let target = HTML.esc(a.treatments[report.explanation.target].name)
        var s = "<section id=\"explanation\"><h2>What drove the model toward \(target)</h2>"
        s += "<p>Integrated gradients (as Captum computes them) of the probability of \(target), the model's first choice, over every feature at every visit the model saw: red cells pushed toward it, blue away. Guideline standing of \(target): \(HTML.esc(a.standing(report.explanation.target).label)).</p>"
        s += h.completeness()
        s += "<figure>" + h.svg() + "</figure>" + h.matrixTable()
        s += h.strongestTable() + h.featureTotalsTable()
        return s + "</section>"
    }

    func guidelines() -> String {
        let g = a.guidelines
        var s = "<section id=\"guidelines\"><h2>Guideline findings</h2><p>Every rule that fired, or could not be decided for missing or stale facts, as of \(HTML.esc(g.indexDate)), with its sources.</p>"
        if g.findings.isEmpty { s += "<p>No rule fired.</p>" }
        s += "<ol class=\"findings\">"
        for f in g.findings {
            let names = f.treatments.map { id in a.treatments.first { $0.id == id }?.name ?? id }
            s += "<li class=\"finding severity-\(f.severity.rawValue)\" data-rule=\"\(HTML.esc(f.rule))\"><p><span class=\"sev\">[\(f.severity.rawValue)]</span> "
            s += "<strong>\(HTML.esc(f.title))</strong> · \(HTML.esc(f.kind.rawValue)) · \(HTML.esc(names.joined(separator: ", ")))"
            if f.status == .unknown { s += " · <em>cannot be decided: \(HTML.esc(f.missing.joined(separator: ", "))) missing or out of date</em>" }
            s += "</p><p>\(HTML.esc(f.message))</p>"
            if !f.evidence.isEmpty {
                s += "<p class=\"evidence\">Facts used: " + f.evidence.map { e in "\(HTML.esc(e.feature)) \(String(format: "%g", (e.value * 10).rounded() / 10)) \(HTML.esc(e.unit)) on \(HTML.esc(e.date))" }.joined(separator: "; ") + "</p>"
            }
            s += "<ul class=\"refs\">" + f.references.map { r in
                "<li class=\"citation\">\(HTML.esc(r.citation))\(r.url.map { " · <span class=\"url\">\(HTML.esc($0))</span>" } ?? "") · rule <code>\(HTML.esc(f.rule))</code></li>"
            }.joined() + "</ul></li>"
        }
        s += "</ol>"
        let quiet = a.treatments.filter { o in !g.findings.contains { $0.treatments.contains(o.id) } }.map(\.name)
        if !quiet.isEmpty { s += "<p class=\"quiet\">No rule fired for: \(HTML.esc(quiet.joined(separator: ", "))).</p>" }
        return s + "</section>"
    }

    func decisions() -> String {
        let ds = report.decisions
        var s = "<section id=\"decisions\"><h2>Recorded decisions</h2>"
        guard !ds.isEmpty else { return s + "<p>No decisions recorded for this patient.</p></section>" }
        let rows = ds.map { d -> [String] in
            [HTML.esc(String(d.recordedAt.prefix(16)).replacingOccurrences(of: "T", with: " ")),
             HTML.esc(report.shownID(d.clinician) + (d.role.map { " (\($0))" } ?? "")),
             "\(d.visit) (\(HTML.esc(d.visitDate)))", HTML.esc(d.recommended), HTML.esc(d.outcome.rawValue),
             HTML.esc(d.chosen) + (d.contraindicatedChoice ? " <strong class=\"flag\">⚠ contraindicated, confirmed</strong>" : ""),
             HTML.num("dec:\(d.id):p", Fmt.percent(d.probabilityOfChosen), tag: "td"),
             HTML.esc(d.reason.map { "\($0.display) [\($0.code)]" } ?? ""), HTML.esc(d.note.map(report.shown) ?? ""),
             HTML.num("dec:\(d.id):reward", String(format: "%+.1f", d.reward), tag: "td"), "<code>\(HTML.esc(String(d.modelSha256.prefix(12))))</code>"]
        }
        s += HTML.table(caption: "Decisions recorded for this patient, oldest first", headers: ["Recorded (UTC)", "Clinician", "Visit", "Recommended", "Outcome", "Chosen", "p(chosen)", "Reason", "Note", "Reward", "Model"], rows: rows, cls: "data decisions")
        return s + "</section>"
    }

    func whatIf() -> String {
        guard let w = report.whatIf else { return "" }
        let before = w.before, after = w.after
        var s = "<section id=\"whatif\"><h2>What if \(HTML.esc(w.changes.joined(separator: ", ")))</h2><p>The model and the guideline checks on an edited copy of the patient, beside the record as it is. The stored record is unchanged.</p>"
        s += topWarning(after)
        let rows = after.displayOrder.map { k -> [String] in
            let id = after.treatments[k].id
            return [HTML.esc(after.treatments[k].name), HTML.num("wi:before:\(id)", Fmt.percent(before.probabilities[k]), tag: "td"),
                    HTML.num("wi:after:\(id)", Fmt.percent(after.probabilities[k]), tag: "td"),
                    String(format: "%+.1f", 100 * (after.probabilities[k] - before.probabilities[k])),
                    Self.statusCell(before.standing(k)), Self.statusCell(after.standing(k))]
        }
        s += HTML.table(caption: "As recorded and in the edited copy", headers: ["Option", "As recorded", "What if", "Change (points)", "Guidelines as recorded", "Guidelines what if"], rows: rows, cls: "data whatif")
        s += "<ul>"
        for f in w.nowFiring { s += "<li>Now fires: <code>\(HTML.esc(f.rule))</code>: \(HTML.esc(f.message))</li>" }
        for f in w.noLongerFiring { s += "<li>No longer fires: <code>\(HTML.esc(f.rule))</code></li>" }
        if before.top != after.top { s += "<li><strong>The model's first choice moves from \(HTML.esc(before.treatments[before.top].name)) to \(HTML.esc(after.treatments[after.top].name)).</strong></li>" }
        s += "<li>Strongest features behind \(HTML.esc(after.treatments[after.top].name)) in the edited copy: " + w.strongestFeatures(5).map { String(format: "%@ %+.3f", HTML.esc($0.feature), $0.attribution) }.joined(separator: ", ") + String(format: " (delta %+.1e)", w.explanation.result.delta) + ".</li>"
        return s + "</ul></section>"
    }

    /// A standing in a table: its mark and words, contraindicated in bold red.
    static func statusCell(_ s: Standing) -> String {
        "<td class=\"status-\(DistributionChart.cls(s))\">\(DistributionChart.mark(s)) \(HTML.esc(s.label))</td>"
    }

    func about() -> String {
        var s = "<section id=\"about\"><h2>About this report</h2><ul>"
        s += "<li><strong>Decision support only.</strong> The model ranks options for a clinician to weigh beside the guidelines; it never decides, and it has not been validated on real patients.</li>"
        if report.synthetic { s += "<li><strong>This is a synthetic patient</strong>, generated by Rounds' documented simulator (docs/cohort.md): no real person is described.</li>" }
        else { s += "<li>This is an imported record. The model was trained on synthetic patients: how well it carries over to real ones is unknown.</li>" }
        s += "<li>The model is for \(HTML.esc(a.population)). It was trained on \(HTML.esc(report.modelTrainingData ?? a.notice.modelTrainedOn))\(report.modelTrainingCohort.map { ", cohort \(HTML.esc($0))" } ?? "") (model \(HTML.esc(a.model.label))).\(a.outsidePopulation.isEmpty ? "" : " <strong>This patient is outside that population.</strong>")</li>"
        s += "<li>Attention shows which visits the model looked at, not why; integrated gradients attribute the probability of one option to the inputs relative to an average patient, and the completeness delta says how exactly.</li>"
        s += "<li>Guideline rules cite document, section and recommendation number as published; a number that could not be checked is marked unverified.</li>"
        if report.options.pseudonymize { s += "<li>Pseudonymized: the patient's and clinicians' ids are replaced by this site's HMAC-SHA256 pseudonyms and the name is left out; dates and clinical values are kept.</li>" }
        s += "<li>Made by Rounds 0.1.0 on \(HTML.esc(ClinicalCalendar.instantString(report.options.madeAt))); the making of this report is recorded in the audit log.</li>"
        return s + "</ul></section>"
    }
}
