import Explanations
import Foundation
import Guidelines
import Patients
import Review

/// Turns one patient's analysis into CDS Hooks cards: the recommendation (distribution, each
/// option's guideline status, the model's reasons and their completeness), a notice per fired
/// contraindication or caution whose source is the guideline, and for `order-select` a card
/// about the drafted medication.
struct CardMaker {
    let analysis: PatientAnalysis
    let pack: KnowledgePack
    let reasons: OverrideReasons
    let service: String
    let hookInstance: String
    let client: String
    let reviewer: Reviewer

    static let topicSystem = "urn:rounds:cds-topic"
    static let ruleSystem = "urn:rounds:guideline-rule"
    /// How many feature-at-visit cells of the explanation the detail lists.
    static let topCells = 5

    private var a: PatientAnalysis { analysis }

    /// The override reasons every decision card offers (`Knowledge/override-reasons.yaml`), as
    /// HL7 non-adherence reason codings with their display.
    var overrideReasons: [Coding] { reasons.reasons.map { Coding(system: reasons.system, code: $0.systemCode, display: $0.display) } }

    private func served(_ card: Card, _ kind: ServedCard.Kind, suggestions: [String: Int] = [:], drafted: Int? = nil) -> ServedCard {
        ServedCard(uuid: card.uuid, kind: kind, service: service, hookInstance: hookInstance, client: client, reviewer: reviewer,
                   analysis: analysis, suggestions: suggestions, drafted: drafted)
    }

    private func name(_ k: Int) -> String { a.treatments[k].name }
    private func percent(_ k: Int) -> String { String(format: "%.1f%%", 100 * a.probabilities[k]) }

    /// The fired rules that speak against option `k` (contraindications and cautions).
    private func concerns(_ k: Int) -> [Finding] {
        a.guidelines.findings.filter { $0.status == .fired && ($0.kind == .contraindication || $0.kind == .caution) && $0.treatments.contains(a.treatments[k].id) }
    }

    private static func indicator(_ s: GuidelineStatus) -> String {
        switch s {
        case .contraindicated: return "critical"
        case .caution, .recheck: return "warning"
        case .indicated, .neutral: return "info"
        }
    }

    private func statusMark(_ s: GuidelineStatus) -> String {
        switch s {
        case .contraindicated: return "✖ **CONTRAINDICATED**"
        case .caution: return "! caution"
        case .recheck: return "! recheck data"
        case .indicated: return "✓ indicated"
        case .neutral: return "· no rule"
        }
    }

    private func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }

    /// A suggestion to start option `k`: a draft MedicationRequest for the clinician to complete.
    private func suggestion(_ k: Int, label: String) -> Suggestion {
        let t = a.treatments[k]
        let codings = t.ingredients.compactMap { i in i.rxnorm.map { Coding(system: "http://www.nlm.nih.gov/research/umls/rxnorm", code: $0, display: i.name) } }
        let draft = DraftMedicationRequest(subject: .init(reference: "Patient/\(a.record.id)"),
                                           medicationCodeableConcept: .init(text: t.name, coding: codings))
        return Suggestion(label: label, uuid: UUID().uuidString.lowercased(), isRecommended: true,
                          actions: [Action(type: "create", description: "Draft a \(t.name) order (\(t.drugClass)) for the clinician to complete", resource: draft)])
    }

    private func extensions() -> [String: ExtensionValue] {
        [
            "org.rounds.model": .string(a.model.label),
            "org.rounds.model_sha256": .string(a.model.sha256),
            "org.rounds.probabilities": .numbers(Dictionary(uniqueKeysWithValues: a.treatments.indices.map { (a.treatments[$0].id, Double(a.probabilities[$0])) })),
            "org.rounds.guideline_status": .strings(a.treatments.indices.map { "\(a.treatments[$0].id)=\(a.status($0).rawValue)" }),
            "org.rounds.fired_rules": .strings(a.guidelines.firedRules),
            "org.rounds.visit": .number(Double(a.index + 1)),
        ]
    }

    /// The markdown every decision card carries: the distribution with each option's status,
    /// the model's reasons for `target`, the fired rules with their citations.
    func detail(headline: String, target: Int) -> String {
        var md = headline + "\n\n"
        md += "_As of \(a.indexDate), visit \(a.index + 1) of \(a.record.visits.count). A model trained on synthetic data (\(cell(a.model.label))); decision support only: the clinician decides._\n\n"
        md += "| Option | Model probability | Guideline status |\n|---|---:|---|\n"
        for k in a.displayOrder {
            md += "| \(cell(name(k)))\(k == a.top ? " (model's choice)" : "") | \(String(format: "%.1f%%", 100 * a.probabilities[k])) | \(statusMark(a.status(k))) |\n"
        }
        let ig = IntegratedGradients(model: a.model.file.model).attribute(a.input, target: target, rule: .gaussLegendre, steps: 50)
        let F = a.model.file.model.shape.features
        let features = a.model.file.features
        md += "\n**Why the model leans toward \(cell(name(target)))** (integrated gradients of its probability from an average patient, strongest feature-at-visit cells; ▲ toward, ▼ away):\n\n"
        md += "| Attribution | Feature | Visit | Value |\n|---:|---|---|---|\n"
        for c in ig.attributions.indices.sorted(by: { abs(ig.attributions[$0]) > abs(ig.attributions[$1]) }).prefix(Self.topCells) {
            let t = c / F, f = c % F
            let visit = a.visits[t]
            md += "| \(ig.attributions[c] >= 0 ? "▲" : "▼") \(String(format: "%+.4f", ig.attributions[c])) | \(cell(features[f])) | \(visit + 1) (\(ClinicalCalendar.dayString(a.record.visits[visit].date))) | \(cell(FeatureText.describe(features[f], a.raw[t][f], pack))) |\n"
        }
        md += String(format: "\nCompleteness: the attributions sum to %+.4f of a change of %+.4f in probability; delta %+.1e (%.2f%% of the change), Gauss–Legendre, %d steps.\n",
                     ig.attributions.reduce(0, +), ig.change, ig.delta, 100 * ig.relativeDelta, ig.steps)
        let fired = a.guidelines.findings.filter { $0.status == .fired }
        if !fired.isEmpty {
            md += "\n**Guideline rules that apply:**\n\n"
            for f in fired {
                let cites = f.references.map(\.citation).joined(separator: "; ")
                md += "- **\(cell(f.title))** (\(f.kind.rawValue), \(f.severity.rawValue); \(f.treatments.joined(separator: ", "))): \(cell(f.message))" + (cites.isEmpty ? "" : " — \(cites)") + "\n"
            }
        }
        return md
    }

    /// The patient-view cards: the recommendation, then a notice per contraindication or caution.
    func patientView() -> (cards: [Card], served: [ServedCard]) {
        let top = a.top, s = a.status(top)
        var cards: [Card] = [], served: [ServedCard] = []
        var suggestions: [Suggestion] = []
        var byUUID: [String: Int] = [:]
        let summary: String
        if s == .contraindicated {
            // Never suggest a contraindicated option, however probable.
            summary = "Rounds: the model's top choice, \(name(top)) (\(percent(top))), is CONTRAINDICATED for this patient"
        } else {
            summary = "Rounds suggests \(name(top)) (\(percent(top)), guideline: \(s.label))"
            let sug = suggestion(top, label: "Start \(name(top))")
            suggestions.append(sug)
            byUUID[sug.uuid] = top
        }
        let contraindicatedCount = a.treatments.indices.filter { a.status($0) == .contraindicated }.count
        let full = summary + (contraindicatedCount > 0 && s != .contraindicated ? "; \(contraindicatedCount) option\(contraindicatedCount == 1 ? "" : "s") contraindicated" : "")
        let card = Card(uuid: UUID().uuidString.lowercased(), summary: Card.summary(full),
                        detail: detail(headline: "**\(cell(summary)).**", target: top),
                        indicator: Self.indicator(s), source: Source(label: "Rounds treatment model (trained on synthetic data) with ADA/KDIGO/label rules", url: nil,
                                                                    topic: Coding(system: Self.topicSystem, code: "glucose-lowering-therapy", display: "Glucose-lowering therapy")),
                        suggestions: suggestions.isEmpty ? nil : suggestions, selectionBehavior: suggestions.isEmpty ? nil : "at-most-one",
                        overrideReasons: overrideReasons, links: nil, extension: extensions())
        cards.append(card)
        served.append(self.served(card, .recommendation, suggestions: byUUID))
        for (c, s) in notices() { cards.append(c); served.append(s) }
        return (cards, served)
    }

    /// One card per fired contraindication or caution: its source is the guideline, its
    /// indicator the rule's severity.
    func notices(only option: Int? = nil) -> [(Card, ServedCard)] {
        let fired = a.guidelines.findings.filter { f in
            f.status == .fired && (f.kind == .contraindication || f.kind == .caution) && (option.map { f.treatments.contains(a.treatments[$0].id) } ?? true)
        }
        return fired.map { f in
            let ref = f.references.first
            let names = f.treatments.compactMap { id in a.treatments.first { $0.id == id }?.name }
            let card = Card(uuid: UUID().uuidString.lowercased(), summary: Card.summary("\(f.kind == .contraindication ? "Contraindicated" : "Caution"): \(names.joined(separator: ", ")) — \(f.title)"),
                            detail: "\(cell(f.message))\n\n" + f.references.map { "- " + cell($0.citation) + ($0.url.map { " <\($0)>" } ?? "") }.joined(separator: "\n"),
                            indicator: f.severity.rawValue,
                            source: Source(label: ref.map(\.citation) ?? f.title, url: ref?.url, topic: Coding(system: Self.ruleSystem, code: f.rule, display: f.title)),
                            suggestions: nil, selectionBehavior: nil, overrideReasons: nil, links: nil,
                            extension: ["org.rounds.rule": .string(f.rule), "org.rounds.treatments": .strings(f.treatments)])
            return (card, served(card, .notice))
        }
    }

    /// The order-select card about the drafted option `k` (and the notices about it).
    func orderSelect(drafted k: Int, alreadyTaking: Bool) -> (cards: [Card], served: [ServedCard]) {
        let s = a.status(k), top = a.top
        let rank = (a.displayOrder.firstIndex(of: k) ?? 0) + 1
        let standing: String
        if s == .contraindicated { standing = "CONTRAINDICATED for this patient" }
        else if alreadyTaking { standing = "the patient already takes it" + (s == .caution || s == .recheck ? " (\(s.label))" : "") }
        else { standing = "guideline: \(s.label); model ranks it \(rank) of \(a.treatments.count) (\(percent(k)))" }
        var suggestions: [Suggestion] = []
        var byUUID: [String: Int] = [:]
        if top != k && a.status(top) != .contraindicated {
            let sug = suggestion(top, label: "Order \(name(top)) instead (the model's choice, \(percent(top)))")
            suggestions.append(sug)
            byUUID[sug.uuid] = top
        }
        let summary = "Ordering \(name(k)): \(standing)"
        let card = Card(uuid: UUID().uuidString.lowercased(), summary: Card.summary(summary),
                        detail: detail(headline: "**\(cell(summary)).** The model's choice is \(cell(name(top))) (\(percent(top)), \(a.status(top).label)).", target: k),
                        indicator: alreadyTaking && s != .contraindicated ? "info" : Self.indicator(s),
                        source: Source(label: concerns(k).first?.references.first?.citation ?? "Rounds treatment model (trained on synthetic data) with ADA/KDIGO/label rules",
                                       url: concerns(k).first?.references.first?.url,
                                       topic: Coding(system: Self.topicSystem, code: "glucose-lowering-order", display: "Glucose-lowering order check")),
                        suggestions: suggestions.isEmpty ? nil : suggestions, selectionBehavior: suggestions.isEmpty ? nil : "at-most-one",
                        overrideReasons: overrideReasons, links: nil, extension: extensions().merging(["org.rounds.drafted": .string(a.treatments[k].id)]) { $1 })
        var cards = [card], served = [self.served(card, .order, suggestions: byUUID, drafted: k)]
        for (c, s) in notices(only: k) { cards.append(c); served.append(s) }
        return (cards, served)
    }
}
