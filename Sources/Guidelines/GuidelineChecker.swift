import Foundation
import Patients

/// Runs the rule book over one patient's facts: the findings, and each treatment's status.
public struct GuidelineChecker: Sendable {
    public let book: RuleBook
    public init(book: RuleBook) { self.book = book }

    public struct Report: Sendable, Codable {
        public var indexDate: String
        public var findings: [Finding]
        /// Each treatment's worst finding (the status decisions have recorded since v1; a
        /// fired deintensification counts as a caution). `standings` is what the screen shows.
        public var statuses: [String: GuidelineStatus]
        /// Each treatment's strongest indication beside its strongest caution or
        /// contraindication, whether it is taken, and whether a rule asks to deintensify it.
        public var standings: [String: Standing]

        /// The ids of the rules that fired (not those undecidable for missing facts).
        public var firedRules: [String] { findings.filter { $0.status == .fired }.map(\.rule) }

        public func standing(_ treatment: String) -> Standing { standings[treatment] ?? Standing() }

        /// The fired deintensification findings: drugs taken that a rule asks to reduce or stop.
        public var deintensifications: [Finding] {
            findings.filter { f in f.kind == .deintensification && f.status == .fired && f.treatments.contains { standings[$0]?.deintensify == f.rule } }
        }
    }

    public func check(_ facts: PatientFacts) -> Report {
        let pack = book.pack
        var findings: [Finding] = []
        for rule in book.rules {
            var used: [String: KnownValue] = [:]
            var missing = Set<String>()
            let truth = facts.evaluate(rule.when, pack: pack, used: &used, missing: &missing)
            guard truth != .no else { continue }
            let evidence = used.keys.sorted().map { f in
                Finding.Evidence(feature: f, value: used[f]!.value, unit: pack.features.definition(id: f)?.unit ?? "", date: ClinicalCalendar.dayString(used[f]!.time))
            }
            let text: String
            if truth == .yes {
                text = fill(rule.message, facts: facts, used: used)
            } else {
                let names = missing.sorted().map { pack.features.definition(id: $0)?.name ?? $0 }
                text = rule.unknownMessage.map { fill($0, facts: facts, used: used) }
                    ?? "\(names.joined(separator: ", ")) unknown or out of date — recheck before deciding (\(rule.title))."
            }
            findings.append(Finding(rule: rule.id, title: rule.title, kind: rule.kind, severity: rule.severity,
                                    status: truth == .yes ? .fired : .unknown, treatments: rule.appliesTo, message: text,
                                    evidence: evidence, missing: missing.sorted(), references: rule.references,
                                    aboutMissingData: rule.when.isAboutMissingData))
        }
        var statuses: [String: GuidelineStatus] = [:]
        for t in pack.treatments.ids {
            var s = GuidelineStatus.neutral
            for f in findings where f.treatments.contains(t) {
                let this: GuidelineStatus
                switch (f.status, f.kind) {
                case (.unknown, .indication): this = .neutral      // an indication that cannot be decided takes nothing away
                case (.unknown, .deintensification): this = .neutral
                case (.unknown, _): this = .recheck
                case (.fired, _) where f.aboutMissingData: this = .recheck
                case (.fired, .contraindication): this = f.severity == .critical ? .contraindicated : .caution
                case (.fired, .caution): this = .caution
                case (.fired, .indication): this = .indicated
                case (.fired, .monitoring): this = f.severity == .info ? .neutral : .caution
                case (.fired, .deintensification): this = facts.taking.contains(t) ? .caution : .neutral
                }
                s = min(s, this)
            }
            statuses[t] = s
        }
        let standings = Dictionary(uniqueKeysWithValues: pack.treatments.ids.map { t in
            (t, Standing.of(t, findings: findings, taking: facts.taking.contains(t)))
        })
        findings.sort { ($0.severity, $0.status == .fired ? 1 : 0) > ($1.severity, $1.status == .fired ? 1 : 0) }
        return Report(indexDate: ClinicalCalendar.dayString(facts.indexDate), findings: findings, statuses: statuses, standings: standings)
    }

    /// Fills `{feature}` (value and unit), `{feature.date}`, `{age}` in a message.
    func fill(_ template: String, facts: PatientFacts, used: [String: KnownValue]) -> String {
        var out = template.replacingOccurrences(of: "{age}", with: "\(facts.age)")
        for (f, v) in used {
            let unit = book.pack.features.definition(id: f)?.unit ?? ""
            out = out.replacingOccurrences(of: "{\(f).date}", with: ClinicalCalendar.dayString(v.time))
            out = out.replacingOccurrences(of: "{\(f)}", with: String(format: "%g %@", (v.value * 10).rounded() / 10, unit))
        }
        return out
    }
}
