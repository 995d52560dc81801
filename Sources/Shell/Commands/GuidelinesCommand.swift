import ArgumentParser
import Foundation
import Guidelines
import Patients

/// `guidelines`: the rule checks for a patient, and the lint of the rule files.
struct GuidelinesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guidelines",
        abstract: "Guideline checks (ADA 2025, KDIGO 2022, drug labels) for the patient, or `guidelines lint` for the rule files.",
        subcommands: [Check.self, Lint.self],
        defaultSubcommand: Check.self)

    struct Check: SessionCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Every rule that fired for the patient, grouped by treatment, with the facts it used and its references.",
            discussion: "Facts are as of the review date (the last encounter, the last before death, or --as-of/--visit: clinical time). A rule whose facts are missing or stale is reported as such, never passed.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var selection: PatientSelection
        @Flag(help: "Print as JSON.") var json = false

        func run(in session: Session) throws {
            let record = try selection.record(in: session)
            let review = try selection.review(for: record, in: session)
            let report = GuidelineChecker(book: try session.rules()).check(PatientFacts(record: record, asOf: review.date, pack: session.pack))
            try session.audit(.guidelinesShown, patient: record.id, detail: ["visit": review.visit.map { String($0 + 1) } ?? "none", "review_date": review.day,
                                                                            "fired": report.firedRules.joined(separator: " ")])
            if json { try session.out.json(report); return }
            let out = session.out
            out.print(out.bold("Guideline checks · \(record.id) · as of \(review.day) (\(review.basis.rawValue))"))
            if let d = record.deceasedAt { out.print(out.bold("Died \(ClinicalCalendar.dayString(d)).")) }
            for option in session.pack.treatments.options {
                let findings = report.findings.filter { $0.treatments.contains(option.id) }
                guard !findings.isEmpty else { continue }
                out.print("")
                out.print(out.bold(option.name) + "  " + out.standing(report.standing(option.id)))
                for f in findings {
                    let sev = f.severity == .critical ? out.red("critical") : (f.severity == .warning ? out.yellow("warning") : "info")
                    let kind = f.kind == .deintensification ? out.yellow(" ↓ deintensify:") : ""
                    out.print("  [\(sev)]\(kind) \(f.message)" + (f.status == .unknown ? out.yellow(" (cannot be decided: \(f.missing.joined(separator: ", ")) missing)") : ""))
                    for r in f.references { out.print(out.dim("      \(r.citation) · rule \(f.rule)")) }
                }
            }
            let deintensify = report.deintensifications
            if !deintensify.isEmpty {
                out.print("")
                out.print(out.bold("Deintensify") + out.dim("  (reduce or stop a drug being taken: not one of the model's options)"))
                for f in deintensify {
                    let names = f.treatments.filter { report.standing($0).deintensify == f.rule }.compactMap { session.pack.treatments.option(id: $0)?.name }
                    out.print("  " + out.yellow("↓ \(names.joined(separator: ", ")):") + " \(f.message)" + out.dim(" · rule \(f.rule)"))
                }
            }
            let quiet = session.pack.treatments.options.filter { o in !report.findings.contains { $0.treatments.contains(o.id) } }.map(\.name)
            if !quiet.isEmpty { out.print(""); out.print(out.dim("No rule fired for: \(quiet.joined(separator: ", ")).")) }
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate every rule file: unknown facts or treatments, duplicate ids, conditions that can never hold, and references (document and section required; a recommendation number only with checked_in; no placeholders such as \"unverified\" or \"6.x\").")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let pack: Patients.KnowledgePack
            do { pack = try KnowledgePack(directory: KnowledgePack.locate(explicit: global.knowledge)) } catch let e as KnowledgeError { throw ValidationError(e.description) }
            do {
                let book = try RuleBook(pack: pack)
                let files = Set(book.rules.map(\.file)).count
                print("\(book.rules.count) rules in \(files) files: no problems.")
                let refs = book.rules.flatMap(\.references)
                let numbered = refs.filter { $0.recommendation != nil }.count
                print("\(refs.count) references: each names its document and section; \(numbered) carry a recommendation number, each with where it was checked.")
            } catch let e as RuleBook.Problems {
                for p in e.problems { FileHandle.standardError.write(Data((p.description + "\n").utf8)) }
                throw ExitCode(1)
            }
        }
    }
}
