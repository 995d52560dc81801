import Foundation

/// Ctrl-C as a request to stop, polled by long computations.
enum Interrupt {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0
    nonisolated(unsafe) private static var depth = 0
    static var requested: Bool { flag != 0 }
    static func clear() { flag = 0 }
    /// Ctrl-C sets the flag instead of ending the process (nested installs are counted, so the
    /// shell keeps its handler while a command inside it installs and restores its own).
    static func install() { flag = 0; depth += 1; signal(SIGINT) { _ in Interrupt.flag = 1 } }
    static func restore() { depth -= 1; if depth <= 0 { depth = 0; signal(SIGINT, SIG_DFL) } }
}
