import ArgumentParser
import Foundation

/// `signin ID [--role ROLE]`: who is deciding. Decisions name the clinician and role, and the
/// audit log records the sign-in. (Rounds trusts the operating system's login for who is at the
/// keyboard; the id says on whose authority a decision is recorded.)
struct SigninCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "signin",
        abstract: "Sign in as a clinician: decisions (accept, override) need one.",
        discussion: "Also `--clinician ID` on any command, or ROUNDS_CLINICIAN. `signin --out` signs out.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The clinician's id: one word (letters, digits, . - _ @).", valueName: "id")) var id: String?
    @Option(name: [.customLong("as")], help: ArgumentHelp("The role (e.g. physician, nurse-practitioner, pharmacist, resident). Default: clinician.", valueName: "role"))
    var asRole: String?
    @Flag(name: .customLong("out"), help: "Sign out.") var signOut = false

    func validate() throws {
        if signOut && id != nil { throw ValidationError("`signin --out` takes no id") }
        if !signOut && id == nil { throw ValidationError("say who: `signin ID [--as ROLE]` (or `signin --out`)") }
    }

    func run(in session: Session) throws {
        let ctx = session.context
        if signOut {
            guard let who = ctx.clinician else { session.out.print("Nobody is signed in."); return }
            try ctx.signIn(nil, role: nil)
            session.out.print("Signed out \(who).")
            return
        }
        try ctx.signIn(id, role: asRole ?? global.role)
        session.out.print("Signed in as \(ctx.clinician!) (\(ctx.role ?? "clinician")). Decisions you record carry this id.")
        if !session.interactive {
            session.out.print(session.out.dim("(From the system shell each command stands alone: pass --clinician \(ctx.clinician!) to `rounds accept` or `rounds override`.)"))
        }
    }
}
