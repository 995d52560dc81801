import ArgumentParser
import Foundation
import Patients

/// `load ID`: the patient under review in the shell.
struct LoadCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load a patient for review (the shell's prompt then shows them).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The patient's id (`patients` lists them; Tab completes).", valueName: "id"))
    var id: String

    @Option(name: .customLong("as-of"), help: ArgumentHelp("Review this patient as of this date (YYYY-MM-DD) in the views that follow.", valueName: "date"))
    var asOf: String?

    func run(in session: Session) throws {
        let p = try session.load(id)
        let review = try PatientSelection.review(p, visit: nil, asOf: asOf)
        session.reviewAsOf = asOf.map { (p.id, $0) }
        let age = " \(p.age(at: review.date))"
        let visits = review.visit.map { "\(p.visits.count) visits with model features (the model sees \($0 + 1) by then)" } ?? "\(p.visits.count) visits with model features (none by then)"
        var line = "Loaded \(p.id)\(p.name.map { " (\($0))" } ?? ""): \(p.sex.rawValue)\(age), reviewed as of \(review.day) (\(review.basis.rawValue)), \(visits)."
        if p.origin == .synthetic { line += " Synthetic patient (demo cohort): not a real person." }
        if let d = p.deceasedAt { line += " Died \(ClinicalCalendar.dayString(d))." }
        session.out.print(line)
        let outside = session.pack.population.reasons(p, at: review.date, pack: session.pack)
        if !outside.isEmpty {
            session.out.print(session.out.red("Outside the model's population (the model is for \(session.pack.population.description)): " + outside.joined(separator: "; ") + "."))
        }
        if !session.interactive { session.out.print(session.out.dim("(From the system shell each command stands alone: `rounds summary --patient \(p.id)`.)")) }
    }
}
