import Foundation
import Patients

/// A rule's `when`: a small language that reads like the guideline.
///
///     egfr < 30 within 12 months            a measured value, its unit optional, its recency
///     hba1c > 10 % within 6 months          thresholds keep their units (converted to the pack's)
///     glucose >= 300 mg/dL                  (recency defaults to the feature's own window)
///     age >= 65                             age at the index visit
///     has heart_failure                     a condition feature (coded, or derived from values)
///     taking metformin                      a current drug of a treatment option (any insulin for basal_insulin)
///     known egfr within 12 months           a value exists in the window
///     weight fell 5 % within 6 months       the latest value is at least 5 % below the highest in the window
///     female                                sex
///     not …, … and …, … or …, ( … )         combinations; `and` binds tighter than `or`
///
/// Values unknown in the window make a comparison unknown, and unknowns follow Kleene's logic:
/// a rule that cannot be decided is said so, never passed.
public indirect enum Condition: Sendable, Equatable {
    case compare(feature: String, op: Comparison, value: Double, windowDays: Double?)
    case age(op: Comparison, value: Double)
    case has(String)
    case taking(String)
    case known(feature: String, windowDays: Double?)
    /// The latest value lies at least `percent` below the highest value within the window.
    case fell(feature: String, percent: Double, windowDays: Double)
    case female
    case not(Condition)
    case and(Condition, Condition)
    case or(Condition, Condition)

    public enum Comparison: String, Sendable, Equatable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "=="
        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .less: a < b
            case .lessOrEqual: a <= b
            case .greater: a > b
            case .greaterOrEqual: a >= b
            case .equal: a == b
            }
        }
    }

    /// True when the condition holds only where facts are missing (`not known egfr within 12 months`).
    public var isAboutMissingData: Bool {
        switch self {
        case .not(.known): return true
        case .and(let a, let b), .or(let a, let b): return a.isAboutMissingData && b.isAboutMissingData
        default: return false
        }
    }

}

/// Three-valued truth (Kleene): unknown where a fact is missing or stale.
public enum Truth: Sendable, Equatable {
    case yes, no, unknown
    static func and(_ a: Truth, _ b: Truth) -> Truth { a == .no || b == .no ? .no : (a == .yes && b == .yes ? .yes : .unknown) }
    static func or(_ a: Truth, _ b: Truth) -> Truth { a == .yes || b == .yes ? .yes : (a == .no && b == .no ? .no : .unknown) }
    var negated: Truth { self == .yes ? .no : (self == .no ? .yes : .unknown) }
}

/// A `when` that does not parse, with the column of the problem.
public struct ConditionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// 1-based column in the condition text.
    public var column: Int
    public var description: String { "column \(column): \(message)" }
}

/// Parses `when` text against the knowledge pack (features, conditions, treatments, units).
public struct ConditionParser {
    let pack: KnowledgePack
    public init(pack: KnowledgePack) { self.pack = pack }

    struct Token { var text: String; var column: Int }

    public func parse(_ text: String) throws -> Condition {
        var tokens = try tokenize(text)
        var pos = 0
        func peek() -> Token? { pos < tokens.count ? tokens[pos] : nil }
        func next() throws -> Token {
            guard pos < tokens.count else { throw ConditionError(message: "the condition ends too early", column: text.count + 1) }
            defer { pos += 1 }
            return tokens[pos]
        }
        func expectWord(_ words: Set<String>, _ what: String) throws -> Token {
            let t = try next()
            guard words.contains(t.text.lowercased()) else { throw ConditionError(message: "expected \(what), found '\(t.text)'", column: t.column) }
            return t
        }
        func number(_ t: Token) throws -> Double {
            guard let v = Double(t.text) else { throw ConditionError(message: "expected a number, found '\(t.text)'", column: t.column) }
            return v
        }
        func window() throws -> Double? {
            guard peek()?.text.lowercased() == "within" else { return nil }
            _ = try next()
            let n = try number(try next())
            let unit = try expectWord(["day", "days", "month", "months", "year", "years"], "days, months or years")
            switch unit.text.lowercased() {
            case "day", "days": return n
            case "month", "months": return n * 30.4375
            default: return n * 365.25
            }
        }
        func measured(_ t: Token) throws -> FeatureDefinition {
            guard let def = pack.features.definition(id: t.text) ?? pack.context.labs.definition(id: t.text), def.kind == .lab || def.kind == .vital else {
                let known = pack.features.measured.map(\.id) + pack.context.labs.definitions.map(\.id)
                throw ConditionError(message: "unknown value '\(t.text)'" + (nearest(t.text, known).map { " (did you mean '\($0)'?)" } ?? ""), column: t.column)
            }
            return def
        }
        func primary() throws -> Condition {
            let t = try next()
            switch t.text.lowercased() {
            case "(":
                let c = try orExpr()
                _ = try expectWord([")"], "')'")
                return c
            case "not": return .not(try primary())
            case "female": return .female
            case "has":
                let c = try next()
                guard pack.features.definition(id: c.text)?.kind == .condition || pack.context.condition(id: c.text) != nil else {
                    throw ConditionError(message: "unknown condition '\(c.text)'" + (nearest(c.text, pack.features.conditions.map(\.id) + pack.context.conditions.map(\.id)).map { " (did you mean '\($0)'?)" } ?? ""), column: c.column)
                }
                return .has(c.text)
            case "taking":
                let c = try next()
                guard (pack.treatments.option(id: c.text) != nil && c.text != "no_change") || pack.context.therapies.option(id: c.text) != nil else {
                    throw ConditionError(message: "unknown treatment '\(c.text)'" + (nearest(c.text, pack.treatments.ids + pack.context.therapies.ids).map { " (did you mean '\($0)'?)" } ?? ""), column: c.column)
                }
                return .taking(c.text)
            case "known":
                let f = try measured(try next())
                return .known(feature: f.id, windowDays: try window())
            case "age":
                let op = try comparison(try next())
                return .age(op: op, value: try number(try next()))
            default:
                let def = try measured(t)
                if peek()?.text.lowercased() == "fell" {
                    _ = try next()
                    let percent = try number(try next())
                    _ = try expectWord(["%"], "'%' after the amount it fell by")
                    guard let days = try window() else { throw ConditionError(message: "'fell' needs a window: within N months", column: t.column) }
                    return .fell(feature: def.id, percent: percent, windowDays: days)
                }
                let op = try comparison(try next())
                let valueToken = try next()
                var value = try number(valueToken)
                if let u = peek(), u.text.lowercased() != "within", u.text.lowercased() != "and", u.text.lowercased() != "or", u.text != ")" {
                    _ = try next()
                    guard let converted = def.canonicalValue(value, unit: u.text) else {
                        throw ConditionError(message: "unit '\(u.text)' is not one of \(def.id)'s (\(def.unit ?? ""))", column: u.column)
                    }
                    value = converted
                }
                return .compare(feature: def.id, op: op, value: value, windowDays: try window())
            }
        }
        func comparison(_ t: Token) throws -> Condition.Comparison {
            guard let op = Condition.Comparison(rawValue: t.text) else { throw ConditionError(message: "expected <, <=, >, >= or ==, found '\(t.text)'", column: t.column) }
            return op
        }
        func andExpr() throws -> Condition {
            var c = try primary()
            while peek()?.text.lowercased() == "and" { _ = try next(); c = .and(c, try primary()) }
            return c
        }
        func orExpr() throws -> Condition {
            var c = try andExpr()
            while peek()?.text.lowercased() == "or" { _ = try next(); c = .or(c, try andExpr()) }
            return c
        }
        let result = try orExpr()
        if let extra = peek() { throw ConditionError(message: "unexpected '\(extra.text)'", column: extra.column) }
        tokens.removeAll()
        return result
    }

    func tokenize(_ text: String) throws -> [Token] {
        var out: [Token] = []
        var current = "", start = 0
        let chars = Array(text)
        var i = 0
        func flush() { if !current.isEmpty { out.append(Token(text: current, column: start + 1)); current = "" } }
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" { flush(); i += 1; continue }
            if c == "(" || c == ")" { flush(); out.append(Token(text: String(c), column: i + 1)); i += 1; continue }
            if "<>=!".contains(c) {
                flush()
                var op = String(c)
                if i + 1 < chars.count, chars[i + 1] == "=" { op.append("="); i += 1 }
                out.append(Token(text: op, column: i + 2 - op.count))
                i += 1
                continue
            }
            if current.isEmpty { start = i }
            current.append(c)
            i += 1
        }
        flush()
        if out.isEmpty { throw ConditionError(message: "the condition is empty", column: 1) }
        return out
    }

    func nearest(_ word: String, _ candidates: [String]) -> String? { Suggest.nearest(word, in: candidates) }
}
