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

    func run(in session: Session) throws {
        let p = try session.load(id)
        let index = p.visits.last.map { ClinicalCalendar.dayString($0.date) } ?? "no visits"
        let age = p.visits.last.map { " \(p.age(at: $0.date))" } ?? ""
        var line = "Loaded \(p.id)\(p.name.map { " (\($0))" } ?? ""): \(p.sex.rawValue)\(age), \(p.visits.count) visits, last \(index)."
        if p.origin == .synthetic { line += " Synthetic patient (demo cohort): not a real person." }
        if let d = p.deceasedAt { line += " Deceased \(ClinicalCalendar.dayString(d))." }
        session.out.print(line)
        if !session.interactive { session.out.print(session.out.dim("(From the system shell each command stands alone: `rounds summary --patient \(p.id)`.)")) }
    }
}
