import Foundation

/// Where command output goes, and how it may look: colour only on a terminal and never when
/// NO_COLOR is set; tables fit the terminal's width; prose wider than the terminal is wrapped at
/// word boundaries with a hanging indent (`TextWrap`) on a terminal, and
/// left as whole lines when piped, so that scripts and `grep` see one line per finding.
public struct Output: Sendable {
    public var color: Bool
    public var width: Int
    /// Whether `print` wraps lines wider than `width`.
    public var wrap: Bool

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let tty = isatty(STDOUT_FILENO) == 1
        color = tty && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
        var w = Int(environment["COLUMNS"] ?? "") ?? 0
        if w <= 0 && tty {
            var size = winsize()
            if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 { w = Int(size.ws_col) }
        }
        width = w > 20 ? w : 100
        wrap = tty
    }

    public func print(_ s: String = "") {
        guard wrap, s.unicodeScalars.count > width else { Swift.print(s); return }
        Swift.print(s.split(separator: "\n", omittingEmptySubsequences: false)
            .flatMap { TextWrap.wrap(String($0), width: width) }
            .joined(separator: "\n"))
    }

    /// A remark about what Rounds is doing, on standard error so that `--json` stays clean.
    public func note(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    public func bold(_ s: String) -> String { color ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
    public func dim(_ s: String) -> String { color ? "\u{1B}[2m\(s)\u{1B}[0m" : s }
    public func red(_ s: String) -> String { color ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
    public func yellow(_ s: String) -> String { color ? "\u{1B}[33m\(s)\u{1B}[0m" : s }

    /// Prints any Encodable as pretty, key-sorted JSON.
    public func json<T: Encodable>(_ value: T) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        Swift.print(String(decoding: try enc.encode(value), as: UTF8.self))
    }
}
