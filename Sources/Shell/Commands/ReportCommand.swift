import ArgumentParser
import Foundation
import Patients
import Report
import Review

/// `report`: a patient's case report as one self-contained HTML page, or the reports of every
/// patient a teaching session loads (handouts). Each report written is an audited disclosure.
struct ReportCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a patient's case report: one self-contained HTML page (charts, distribution, explanation, findings, decisions).",
        discussion: """
        The page holds the timeline (HbA1c, eGFR, weight, blood pressure, glucose-lowering medicines, the attention over the
        visits), the distribution beside each option's guideline status, the integrated-gradient heat map with the strongest
        cells, every guideline finding with its citation, the recorded decisions and, with --whatif, a what-if. It needs no
        network and prints on A4 or Letter. `--session FILE --out DIR` writes the report of every patient the session loads.
        Every report made is recorded in the audit log.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: PatientSelection
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Add a what-if section (e.g. --whatif egfr=24 heart_failure=yes).", valueName: "feature=value"))
    var whatif: [String] = []
    @Flag(help: "Name the patient and clinicians by the site's HMAC pseudonyms and leave out the name.") var pseudonymize = false
    @Option(help: ArgumentHelp("Write the report of every patient this teaching session loads (then --out is a folder).", valueName: "file"))
    var session: String?
    @Option(help: ArgumentHelp("The HTML file to write (or, with --session or an existing folder, the folder).", valueName: "path"))
    var out: String

    func validate() throws {
        if session != nil && (selection.patient != nil || selection.visit != nil || selection.asOf != nil) {
            throw ValidationError("--session makes a report of each patient the session loads, as of their last encounter: leave out --patient, --visit and --as-of")
        }
    }

    func run(in s: Session) throws {
        if let session {
            let ids = try Self.patients(inSession: session)
            guard !ids.isEmpty else { throw ValidationError("\(session) loads no patient (no `load ID` or `--patient ID`)") }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            // Handouts leave the shell's loaded patient as it was.
            let loaded = s.patient
            defer { s.patient = loaded }
            for id in ids {
                let record = try s.load(id)
                try write(s, record: record, review: try PatientSelection.review(record, visit: nil, asOf: nil), to: nil)
            }
            s.out.print("Wrote \(ids.count) case reports for \(session) to \(out).")
            return
        }
        let record = try selection.record(in: s)
        try write(s, record: record, review: try selection.review(for: record, in: s), to: out)
    }

    /// Makes one report and writes it to `path`, or into the folder `out` named by the patient.
    func write(_ s: Session, record: PatientRecord, review: ReviewPoint, to path: String?) throws {
        _ = try PatientSelection.modelVisit(record, review)
        let report = try CaseReport(workspace: s.workspace, reviewer: s.context.reviewer, record: record, review: review,
                                    options: CaseReport.Options(whatIf: whatif, pseudonymize: pseudonymize))
        var isDir: ObjCBool = false
        let target = path.flatMap { FileManager.default.fileExists(atPath: $0, isDirectory: &isDir) && isDir.boolValue ? nil : $0 }
            ?? (out as NSString).appendingPathComponent(report.patientLabel + ".html")
        let bytes = try ReportWriter.write(report, to: target, workspace: s.workspace, reviewer: s.context.reviewer)
        s.out.print("Wrote the case report of \(report.patientLabel) as of \(report.analysis.indexDate) (model's last visit \(report.analysis.index + 1)) to \(target) (\(bytes / 1024) KB)."
                    + (record.origin == .synthetic ? " Synthetic patient." : ""))
    }

    /// The patients a teaching session loads, in order, each once: `load ID` lines and `--patient ID` options.
    static func patients(inSession path: String) throws -> [String] {
        let script: SessionScript
        do { script = try SessionScript(path: path) } catch let e as SessionScript.ParseError { throw ValidationError(e.description) }
        var ids: [String] = []
        for (_, step) in script.steps {
            guard case .command(let line) = step, let words = try? Tokenizer.split(line), let first = words.first else { continue }
            var found: [String] = []
            if first == "load", words.count > 1 { found.append(words[1]) }
            for (i, w) in words.enumerated() {
                if w == "--patient", i + 1 < words.count { found.append(words[i + 1]) }
                if w.hasPrefix("--patient=") { found.append(String(w.dropFirst(10))) }
            }
            for id in found where !ids.contains(id) { ids.append(id) }
        }
        return ids
    }
}
