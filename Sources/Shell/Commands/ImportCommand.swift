import ArgumentParser
import Foundation
import Patients
import Store

/// `rounds import PATH...`: FHIR R4 JSON files and folders into the store.
struct ImportCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import FHIR R4 patient data (Bundles, single resources, bulk-export NDJSON).",
        discussion: """
        Each file is read whole before anything of it is stored, and stored in one transaction:
        a bad file fails alone and leaves nothing half-written. Importing the same data again
        changes nothing. Exits non-zero when any file failed.
        """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Files or folders (searched for .json and .ndjson).", valueName: "path"))
    var paths: [String]

    @Flag(help: "Print the report as JSON.")
    var json = false

    /// From the system shell, importing never seeds the demo cohort first.
    func run() throws { try run(in: Session(context: Context(global, seedDemo: false), interactive: false)) }

    func run(in session: Session) throws {
        let ctx = session.context
        let extractor = FeatureExtractor(pack: ctx.pack)
        let importer = FHIRImporter(pack: ctx.pack)
        let started = Date()
        let report = importer.run(paths: paths) { unit in
            try ctx.store.save(imported: unit.records, source: unit.files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")) { r in
                // Key conditions as of the review date: the model's, then the pack's context (type 2 diabetes...).
                guard let date = (try? ReviewPoint.resolve(r))?.date else { return PatientSummaryFields(conditions: []) }
                return PatientSummaryFields(conditions: extractor.conditionFeatures(for: r, at: date) + ctx.pack.context.conditions(of: r, at: date).map(\.condition.id))
            }
        }
        let seconds = Date().timeIntervalSince(started)
        try session.audit(.patientsImported, action: "C", outcome: report.failed ? 4 : 0,
                          detail: ["files": paths.joined(separator: " "), "new": String(report.patientsNew), "updated": String(report.patientsUpdated),
                                   "unchanged": String(report.patientsUnchanged)])
        if json { try ctx.out.json(report) } else { ImportReportView(report: report, seconds: seconds, out: ctx.out).print() }
        if report.failed { throw ExitCode(1) }
    }
}

/// The human-readable import summary.
struct ImportReportView {
    let report: ImportReport
    let seconds: Double
    let out: Output
    var maxListed = 15

    func print() {
        let ok = report.files.filter(\.ok).count
        out.print(out.bold("Import: \(ok) of \(report.files.count) file(s) read") + String(format: " in %.2f s", seconds))
        let changed = report.patientsNew + report.patientsUpdated
        out.print("Patients: \(report.patientsNew) new, \(report.patientsUpdated) updated, \(report.patientsUnchanged) unchanged"
                  + (changed == 0 && report.patientsUnchanged > 0 ? " (no changes)" : ""))
        if report.referenceFiles > 0 {
            out.print("Reference data: \(report.referenceFiles) file(s) of organisations, practitioners or locations only (no patient; nothing stored)")
        }
        if !report.used.isEmpty {
            out.print("Resources used: " + report.used.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !report.skipped.isEmpty {
            out.print("Resources skipped (not used by Rounds): " + report.skipped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !report.unmapped.isEmpty {
            out.print("Codes kept but not used by the model (\(report.unmapped.count)):")
            let t = Table(headers: ["SYSTEM", "CODE", "COUNT", "DISPLAY"],
                          rows: report.unmapped.prefix(maxListed).map { [$0.system, $0.code, "\($0.count)", $0.display] }, rightAligned: [2])
            out.print(indent(t.render(width: out.width - 2)))
            if report.unmapped.count > maxListed { out.print("  … and \(report.unmapped.count - maxListed) more (--json lists all)") }
        }
        if !report.valueProblems.isEmpty {
            out.print(out.yellow("Values reported and not used:"))
            for p in report.valueProblems {
                out.print("  \(p.feature): \(p.problem) ×\(p.count), e.g. \(p.example)")
            }
        }
        if !report.warnings.isEmpty {
            out.print(out.yellow("Warnings (\(report.warnings.count)):"))
            for w in report.warnings.prefix(maxListed) { out.print("  \(w)") }
            if report.warnings.count > maxListed { out.print("  … and \(report.warnings.count - maxListed) more (--json lists all)") }
        }
        if !report.errors.isEmpty {
            out.print(out.red("Errors (\(report.errors.count) file(s) not imported, nothing of them stored):"))
            for e in report.errors { out.print("  \(e)") }
        }
    }

    private func indent(_ s: String) -> String { s.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") }
}
