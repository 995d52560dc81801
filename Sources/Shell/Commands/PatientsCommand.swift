import ArgumentParser
import Foundation
import Patients
import Store

/// `rounds patients`: list and filter the store's patients.
struct PatientsCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "patients",
        abstract: "List patients: id, age, sex, visits and key conditions.",
        discussion: "Age is at the patient's last visit (clinical time). Conditions hold at the last visit, coded or derived from values (CKD from eGFR < 60, obesity from BMI ≥ 30).")

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("condition"), help: ArgumentHelp("Only patients with this condition (repeatable), e.g. heart_failure.", valueName: "id"))
    var conditions: [String] = []

    @Option(help: ArgumentHelp("Only this sex: F or M.", valueName: "F|M"))
    var sex: String?

    @Option(help: "Only patients at least this old.")
    var minAge: Int?

    @Option(help: "Only patients at most this old.")
    var maxAge: Int?

    @Option(help: ArgumentHelp("Only synthetic or imported patients.", valueName: "synthetic|imported"))
    var origin: String?

    @Option(help: ArgumentHelp("Only ids or names containing this text.", valueName: "text"))
    var search: String?

    @Option(help: "Show at most this many (0 for all).")
    var limit: Int = 25

    @Flag(help: "Print as JSON.")
    var json = false

    func validate() throws {
        if let s = sex, !["f", "m", "female", "male"].contains(s.lowercased()) { throw ValidationError("--sex takes F or M, not '\(s)'") }
        if let o = origin, PatientRecord.Origin(rawValue: o) == nil { throw ValidationError("--origin takes synthetic or imported, not '\(o)'") }
        if limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run(in session: Session) throws {
        let ctx = session.context
        let known = ctx.pack.features.conditions.map(\.id) + ctx.pack.context.conditions.map(\.id)
        for c in conditions where !known.contains(c) {
            let hint = Suggest.nearest(c, in: known).map { " Did you mean '\($0)'?" } ?? ""
            throw ValidationError("unknown condition '\(c)'.\(hint) Known: \(known.joined(separator: ", "))")
        }
        var filter = PatientFilter(sex: sex.map { Sex(fhir: $0) }, origin: origin.flatMap(PatientRecord.Origin.init(rawValue:)),
                                   minAge: minAge, maxAge: maxAge, conditions: conditions, search: search)
        let total = try ctx.store.patients(filter).count
        filter.limit = limit == 0 ? nil : limit
        let rows = try ctx.store.patients(filter)
        if json { try ctx.out.json(rows); return }
        let names = Dictionary(uniqueKeysWithValues: known.map { ($0, $0) })
        let table = Table(
            headers: ["ID", "AGE", "SEX", "VISITS", "LAST VISIT", "CONDITIONS"],
            rows: rows.map { p in
                [p.id, p.age.map(String.init) ?? "?", p.sex.letter, "\(p.visitCount)", p.lastVisit ?? "-",
                 (p.deceasedAt != nil ? "(deceased) " : "") + p.conditions.compactMap { names[$0] }.joined(separator: ", ")]
            },
            rightAligned: [1, 3])
        ctx.out.print(table.render(width: ctx.out.width))
        let shown = rows.count < total ? "showing \(rows.count) of \(total) (--limit 0 for all)" : "\(total) patient(s)"
        let synthetic = rows.contains { $0.origin == .synthetic } ? " · demo-* patients are synthetic, not real people" : ""
        ctx.out.print(ctx.out.dim(shown + synthetic))
    }
}
