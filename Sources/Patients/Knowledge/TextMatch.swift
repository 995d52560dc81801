/// Phrase matching on clinical display text.
///
/// Real displays vary in case (`amLODIPine`), punctuation and invisible characters (zero-width
/// spaces). Text is lower-cased and every run of non-alphanumeric characters becomes one space,
/// so that a phrase matches whole words only: "nph" never matches inside another word.
public enum TextMatch {
    public static func normalize(_ text: String) -> String {
        var out = " "
        out.reserveCapacity(text.utf8.count + 2)
        var lastWasSpace = true
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                // The common case without the Unicode tables: ASCII letters and digits are
                // exactly the ASCII scalars that are alphabetic or digits, lower-cased by adding 32.
                let v = scalar.value
                if (0x61...0x7A).contains(v) || (0x30...0x39).contains(v) {
                    out.unicodeScalars.append(scalar)
                    lastWasSpace = false
                } else if (0x41...0x5A).contains(v) {
                    out.unicodeScalars.append(Unicode.Scalar(UInt8(v + 32)))
                    lastWasSpace = false
                } else if !lastWasSpace {
                    out.append(" ")
                    lastWasSpace = true
                }
            } else if scalar.properties.isAlphabetic {
                out.unicodeScalars.append(contentsOf: String(scalar).lowercased().unicodeScalars)
                lastWasSpace = false
            } else if !lastWasSpace {
                out.append(" ")
                lastWasSpace = true
            }
        }
        if !lastWasSpace { out.append(" ") }
        return out
    }

    /// Whether normalized `text` contains the normalized `phrase` (both from `normalize`).
    public static func contains(_ text: String, normalizedPhrase phrase: String) -> Bool {
        var text = text, phrase = phrase
        return text.withUTF8 { t in
            phrase.withUTF8 { p in
                guard p.count <= t.count, let first = p.first else { return p.isEmpty }
                var i = 0
                let last = t.count - p.count
                while i <= last {
                    if t[i] == first {
                        var k = 1
                        while k < p.count && t[i + k] == p[k] { k += 1 }
                        if k == p.count { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }
}

/// Suggestions for mistyped names (commands, ids, features, treatments): the closest candidate
/// by edit distance, when it is close enough to be a likely typo.
public enum Suggest {
    /// The candidate nearest `word` by edit distance, to the whole candidate or to one of its
    /// hyphen- or underscore-separated parts (`costs` finds `cost-coverage`); nil if none is close.
    public static func nearest(_ word: String, in candidates: [String]) -> String? {
        let w = word.lowercased()
        func score(_ c: String) -> Int {
            let lower = c.lowercased()
            let parts = lower.split(whereSeparator: { $0 == "-" || $0 == "_" }).map(String.init)
            return ([distance(w, lower)] + (parts.count > 1 ? parts.map { distance(w, $0) + 1 } : [])).min()!
        }
        let scored = candidates.map { ($0, score($0)) }.min { $0.1 < $1.1 }
        guard let (best, d) = scored, d <= max(2, word.count / 3) else { return nil }
        return best
    }

    /// Levenshtein distance.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
}
