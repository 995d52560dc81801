/// Splits a shell line into words as a POSIX shell would for simple input: whitespace
/// separates, single and double quotes group, a backslash escapes the next character.
enum Tokenizer {
    struct UnclosedQuote: Error { var quote: Character }

    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in line {
            if escaped { current.append(c); escaped = false; inWord = true; continue }
            if let q = quote {
                if c == q { quote = nil } else if c == "\\" && q == "\"" { escaped = true } else { current.append(c) }
                continue
            }
            switch c {
            case "\\": escaped = true; inWord = true
            case "'", "\"": quote = c; inWord = true
            case " ", "\t":
                if inWord { words.append(current); current = ""; inWord = false }
            default: current.append(c); inWord = true
            }
        }
        if let q = quote { throw UnclosedQuote(quote: q) }
        if inWord { words.append(current) }
        return words
    }
}
