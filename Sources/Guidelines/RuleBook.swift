import Foundation
import Patients
import Yams

/// The guideline knowledge base: every `Knowledge/guidelines/*.yaml` file, parsed and checked.
public struct RuleBook: Sendable {
    public let rules: [Rule]
    public let pack: KnowledgePack

    /// A problem in a rule file: file, line, rule id (when known) and what is wrong.
    public struct Problem: Error, Sendable, CustomStringConvertible, Equatable {
        public var file: String
        public var line: Int
        public var rule: String?
        public var message: String
        public var description: String { "\(file):\(line): \(rule.map { "\($0): " } ?? "")\(message)" }
    }

    /// Loads every rule file in `directory` (default: the pack's `guidelines` folder). Throws
    /// the problems found, all of them, when any file or rule is broken.
    public init(pack: KnowledgePack, directory: URL? = nil) throws {
        self.pack = pack
        let dir = directory ?? pack.directory.appendingPathComponent("guidelines")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var rules: [Rule] = []
        var problems: [Problem] = []
        if files.isEmpty { problems.append(Problem(file: dir.path, line: 0, rule: nil, message: "no guideline files (*.yaml)")) }
        for name in files {
            let path = dir.appendingPathComponent(name).path
            let shown = "Knowledge/guidelines/\(name)"
            do {
                let (r, p) = try Self.parse(file: path, shown: shown, pack: pack)
                rules += r; problems += p
            } catch let p as Problem { problems.append(p) }
        }
        var seen: [String: Rule] = [:]
        for r in rules {
            if let first = seen[r.id] { problems.append(Problem(file: r.file, line: r.line, rule: r.id, message: "duplicate id (first at \(first.file):\(first.line))")) }
            seen[r.id] = seen[r.id] ?? r
        }
        guard problems.isEmpty else { throw Problems(problems: problems) }
        self.rules = rules
    }

    public struct Problems: Error, Sendable, CustomStringConvertible {
        public var problems: [Problem]
        public var description: String { problems.map(\.description).joined(separator: "\n") }
    }

    static func parse(file path: String, shown: String, pack: KnowledgePack) throws -> ([Rule], [Problem]) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw Problem(file: shown, line: 0, rule: nil, message: "cannot read the file") }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw Problem(file: shown, line: Self.line(of: e), rule: nil, message: "not valid YAML: \(e)")
        } catch { throw Problem(file: shown, line: 0, rule: nil, message: "not valid YAML: \(error)") }
        guard let list = root?.mapping?["rules"]?.sequence else {
            throw Problem(file: shown, line: root?.mark?.line ?? 1, rule: nil, message: "expected a top-level 'rules:' list")
        }
        var rules: [Rule] = []
        var problems: [Problem] = []
        let parser = ConditionParser(pack: pack)
        for node in list {
            let line = node.mark?.line ?? 0
            guard let m = node.mapping else { problems.append(Problem(file: shown, line: line, rule: nil, message: "a rule must be a mapping")); continue }
            let id = m["id"]?.string
            func fail(_ message: String, at n: Node? = nil) { problems.append(Problem(file: shown, line: n?.mark?.line ?? line, rule: id, message: message)) }
            func string(_ key: String) -> String? {
                guard let s = m[key]?.string, !s.isEmpty else { fail("missing '\(key)'"); return nil }
                return s
            }
            guard let rid = string("id"), let title = string("title"), let kindText = string("kind"), let severityText = string("severity"),
                  let whenText = string("when"), let message = string("message") else { continue }
            _ = rid
            guard let kind = Rule.Kind(rawValue: kindText) else { fail("kind '\(kindText)' is not \(Rule.Kind.allCases.map(\.rawValue).joined(separator: ", "))", at: m["kind"]); continue }
            guard let severity = Rule.Severity(rawValue: severityText) else { fail("severity '\(severityText)' is not info, warning or critical", at: m["severity"]); continue }
            let applies = m["applies_to"]?.sequence?.compactMap(\.string) ?? []
            if applies.isEmpty { fail("'applies_to' must list treatments", at: m["applies_to"]) }
            for t in applies where pack.treatments.option(id: t) == nil { fail("unknown treatment '\(t)' in applies_to", at: m["applies_to"]) }
            let when: Condition
            do { when = try parser.parse(whenText) } catch let e as ConditionError {
                fail("when: \(e.message) (column \(e.column) of \"\(whenText)\")", at: m["when"]); continue
            }
            if let contradiction = Lint.unreachable(when) { fail("when can never hold: \(contradiction)", at: m["when"]) }
            var references: [Rule.Reference] = []
            for r in m["references"]?.sequence ?? [] {
                switch Lint.reference(r) {
                case .success(let ref): references.append(ref)
                case .failure(let why): fail(why.message, at: r)
                }
            }
            if references.isEmpty { fail("missing 'references': every rule cites its source", at: node) }
            rules.append(Rule(id: rid, title: title, kind: kind, severity: severity, appliesTo: applies, whenText: whenText, when: when,
                              message: message, unknownMessage: m["unknown_message"]?.string, references: references, file: shown, line: line))
        }
        return (rules, problems)
    }

    static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _): return mark.line
        default: return 0
        }
    }
}

/// Checks the knowledge base beyond parsing: conditions that can never hold, and references
/// that do not say where they come from as published.
enum Lint {
    struct ReferenceProblem: Error { var message: String }

    static let referenceKeys: Set<String> = ["organization", "document", "edition", "section", "recommendation", "grade", "url", "checked_in", "note"]

    /// A reference as the rule files write it: organization, document and section always; a
    /// recommendation number, and a grade with it, only with `checked_in` saying where the
    /// number was read. No field may carry a placeholder ("unverified", "6.x", "TBD").
    static func reference(_ node: Node) -> Result<Rule.Reference, ReferenceProblem> {
        guard let m = node.mapping else { return .failure(.init(message: "a reference must be a mapping (organization, document, section, …)")) }
        var fields: [String: String] = [:]
        for (k, v) in m {
            guard let key = k.string else { continue }
            guard referenceKeys.contains(key) else {
                let hint = key == "verified" ? " (a number is checked by naming where it was read: checked_in)" : ""
                return .failure(.init(message: "reference: unknown field '\(key)'\(hint); fields are \(referenceKeys.sorted().joined(separator: ", "))"))
            }
            guard let text = v.string?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
                return .failure(.init(message: "reference: '\(key)' must be non-empty text"))
            }
            if let placeholder = placeholder(in: text) { return .failure(.init(message: "reference: '\(key)' holds a placeholder (\(placeholder)): cite what was checked, or leave the number out")) }
            fields[key] = text
        }
        for key in ["organization", "document", "section"] where fields[key] == nil {
            return .failure(.init(message: "reference: missing '\(key)' (every reference names organization, document and section as published)"))
        }
        if fields["recommendation"] != nil && fields["checked_in"] == nil {
            return .failure(.init(message: "reference: recommendation \(fields["recommendation"]!) without 'checked_in': say where the number was read, or leave it out"))
        }
        if fields["grade"] != nil && fields["recommendation"] == nil {
            return .failure(.init(message: "reference: a grade belongs to a recommendation number; give the checked number or drop the grade"))
        }
        if fields["checked_in"] != nil && fields["recommendation"] == nil {
            return .failure(.init(message: "reference: 'checked_in' without a recommendation number"))
        }
        return .success(Rule.Reference(organization: fields["organization"]!, document: fields["document"]!, edition: fields["edition"],
                                       section: fields["section"]!, recommendation: fields["recommendation"], grade: fields["grade"],
                                       url: fields["url"], checkedIn: fields["checked_in"], note: fields["note"]))
    }

    /// A placeholder in citation text: "unverified", "TBD", "TODO", "?", or a number with an
    /// `x` for digits ("6.x", "9.1x").
    static func placeholder(in text: String) -> String? {
        let lower = text.lowercased()
        for word in ["unverified", "not verified", "tbd", "todo", "fixme", "[number", "??"] where lower.contains(word) { return "'\(word)'" }
        if let r = lower.range(of: #"\b\d+(\.\d+)*\.x\b|\b\d+\.\d*x\b"#, options: .regularExpression) { return "'\(lower[r])'" }
        return nil
    }

    /// A reason when the conjunction at the top of a condition asks one value for bounds that
    /// cannot both hold (`egfr < 20 and egfr > 30`).
    static func unreachable(_ c: Condition) -> String? {
        func conjuncts(_ c: Condition) -> [Condition] {
            if case .and(let a, let b) = c { return conjuncts(a) + conjuncts(b) }
            return [c]
        }
        var bounds: [String: (low: Double, lowStrict: Bool, high: Double, highStrict: Bool)] = [:]
        for part in conjuncts(c) {
            guard case .compare(let f, let op, let v, _) = part else { continue }
            var b = bounds[f] ?? (-Double.infinity, false, Double.infinity, false)
            switch op {
            case .less: if v <= b.high { b.high = v; b.highStrict = true }
            case .lessOrEqual: if v < b.high { b.high = v; b.highStrict = false }
            case .greater: if v >= b.low { b.low = v; b.lowStrict = true }
            case .greaterOrEqual: if v > b.low { b.low = v; b.lowStrict = false }
            case .equal: b.low = max(b.low, v); b.high = min(b.high, v)
            }
            bounds[f] = b
            if b.low > b.high || (b.low == b.high && (b.lowStrict || b.highStrict)) {
                return "\(f) cannot be both at least \(b.low) and below \(b.high)"
            }
        }
        return nil
    }
}
