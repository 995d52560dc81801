/// Wraps prose to the terminal's width at word boundaries, with a hanging indent, so that the
/// terminal never breaks a rule's message or a citation mid-word.
///
/// Views print whole lines; `Output.print` hands each line that is wider than the terminal to
/// `wrap`. Tables already fit (`Table` shortens their last column), so only prose reaches it.
/// The continuation lines hang under where the line's text begins: after its leading spaces and
/// a list marker (`- `, `! `, `✗ `, `1. `), or, for a row whose last column is prose, under that
/// column, so a wrapped message stays beside its label.
public enum TextWrap {
    /// The line's pieces, each at most `width` visible columns unless one word alone is wider
    /// (a long URL is kept whole rather than cut). ANSI colour codes take no columns.
    public static func wrap(_ line: String, width: Int) -> [String] {
        guard width > 10, visibleWidth(line) > width else { return [line] }
        let hang = hangingIndent(of: line, width: width)
        let indent = String(repeating: " ", count: hang)
        var lines: [String] = []
        // The first line keeps its own spacing (a label column, a marker); later ones hang.
        var prefix = "", prefixWidth = 0
        var segment = Array(line)
        while true {
            if prefixWidth + visibleWidth(String(segment)) <= width {
                lines.append(prefix + String(segment)); break
            }
            // The last space that leaves the line within the width, past the hang point;
            // failing that, the first space after it (a word wider than the line stays whole).
            var column = prefixWidth, lastFit: Int?, firstAfter: Int?
            var i = 0, inEscape = false
            while i < segment.count {
                let c = segment[i]
                if inEscape { if let a = c.asciiValue, (0x40...0x7E).contains(a), c != "[" { inEscape = false } }
                else if c == "\u{1B}" { inEscape = true }
                else {
                    if c == " " && column > max(hang, prefixWidth) {
                        if column <= width { lastFit = i } else if firstAfter == nil { firstAfter = i; break }
                    }
                    column += 1
                }
                i += 1
            }
            guard let cut = lastFit ?? firstAfter else { lines.append(prefix + String(segment)); break }
            var head = segment[..<cut]
            while head.last == " " { head = head.dropLast() }
            lines.append(prefix + String(head))
            var rest = segment[cut...]
            while rest.first == " " { rest = rest.dropFirst() }
            guard !rest.isEmpty else { break }
            segment = Array(rest)
            prefix = indent; prefixWidth = hang
        }
        return lines
    }

    /// Columns taken on screen: characters outside ANSI escape sequences.
    public static func visibleWidth(_ s: String) -> Int {
        var n = 0, inEscape = false
        for c in s.unicodeScalars {
            if inEscape { if (0x40...0x7E).contains(c.value) && c != "[" { inEscape = false }; continue }
            if c == "\u{1B}" { inEscape = true; continue }
            // Combining marks and variation selectors take no column of their own.
            if (0x300...0x36F).contains(c.value) || (0xFE00...0xFE0F).contains(c.value) { continue }
            n += 1
        }
        return n
    }

    /// Where continuation lines start: under the last column (after a run of two or more spaces)
    /// if that begins in the left half, else after the leading spaces and any list marker.
    static func hangingIndent(of line: String, width: Int) -> Int {
        let plain = Array(stripANSI(line))
        var leading = 0
        while leading < plain.count && plain[leading] == " " { leading += 1 }
        // A list marker: up to three non-letter characters (or digits and a dot) and a space.
        var marker = leading
        var j = leading
        while j < plain.count && j - leading < 3 && plain[j] != " " && !plain[j].isLetter { j += 1 }
        if j > leading && j < plain.count && plain[j] == " " {
            marker = j
            while marker < plain.count && plain[marker] == " " { marker += 1 }
        }
        // The start of the last column within the first half of the line.
        var column = 0
        var k = max(marker, leading)
        while k + 1 < min(plain.count, width / 2) {
            if plain[k] == " " && plain[k + 1] == " " {
                var end = k
                while end < plain.count && plain[end] == " " { end += 1 }
                if end < width / 2 { column = end }
                k = end
            } else { k += 1 }
        }
        let hang = max(column, marker == leading ? leading + 2 : marker)
        return min(hang, width / 2)
    }

    static func stripANSI(_ s: String) -> String {
        var out = "", inEscape = false
        for c in s.unicodeScalars {
            if inEscape { if (0x40...0x7E).contains(c.value) && c != "[" { inEscape = false }; continue }
            if c == "\u{1B}" { inEscape = true; continue }
            out.unicodeScalars.append(c)
        }
        return out
    }
}
