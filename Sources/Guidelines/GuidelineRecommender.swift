import Foundation
import Patients

/// The rule-based recommender that Kukalakunta, Thuniki and Yellu's comparison calls for: it
/// chooses from the guideline checks alone.
///
/// 1. Options the guidelines contraindicate, and options already taken, are excluded.
/// 2. An option the rules indicate is chosen first (cardiorenal indications hold whatever the
///    HbA1c): most indications first, ties by the order SGLT2 inhibitor, GLP-1 RA, metformin,
///    basal insulin, DPP-4 inhibitor, thiazolidinedione, sulfonylurea.
/// 3. Otherwise, with HbA1c at target (7 %, or 8 % at 75 or after hypoglycaemia) in the last
///    12 months: no drug change.
/// 4. Otherwise the first option with no caution or recheck in the order metformin, SGLT2 inhibitor,
///    GLP-1 RA, DPP-4 inhibitor, thiazolidinedione, sulfonylurea, basal insulin; failing that,
///    the first with a caution; failing that, no drug change.
///
/// An option counts as indicated when an indication fired for it, whatever caution stands
/// beside it (`Standing`). Its distribution puts most weight on the choice and the rest by
/// standing (indicated > no rule > caution or recheck > taken > contraindicated), so that AUC and calibration can be
/// scored beside the model's.
public struct GuidelineRecommender: Sendable {
    public let checker: GuidelineChecker
    static let indicationOrder = ["sglt2", "glp1", "metformin", "basal_insulin", "dpp4", "tzd", "sulfonylurea"]
    static let glycaemicOrder = ["metformin", "sglt2", "glp1", "dpp4", "tzd", "sulfonylurea", "basal_insulin"]

    public init(book: RuleBook) { checker = GuidelineChecker(book: book) }

    /// The chosen option and a distribution over the pack's treatments, in their order.
    public func recommend(_ facts: PatientFacts) -> (choice: String, distribution: [Double]) {
        let pack = checker.book.pack
        let report = checker.check(facts)
        // Standings, not worst findings: an info-level caution must not hide an indication.
        func standing(_ t: String) -> Standing { report.standing(t) }
        let available = pack.treatments.ids.filter { $0 != "no_change" && !standing($0).contraindicated && !facts.taking.contains($0) }
        let indications = Dictionary(grouping: report.findings.filter { $0.status == .fired && $0.kind == .indication }.flatMap(\.treatments), by: { $0 }).mapValues(\.count)
        let target = (facts.age >= 75 || facts.conditions.contains("hypoglycemia")) ? 8.0 : 7.0
        let hba1c = facts.latest("hba1c", withinDays: 365, pack: pack)?.value
        let needsLowering = hba1c.map { $0 > target } ?? true
        var choice = "no_change"
        let indicated = available.filter { standing($0).indication != nil }
            .sorted { (indications[$0] ?? 0, -(Self.indicationOrder.firstIndex(of: $0) ?? 99)) > (indications[$1] ?? 0, -(Self.indicationOrder.firstIndex(of: $1) ?? 99)) }
        if let first = indicated.first {
            choice = first
        } else if needsLowering {
            choice = Self.glycaemicOrder.first { available.contains($0) && standing($0).against == nil }
                ?? Self.glycaemicOrder.first { available.contains($0) }
                ?? "no_change"
        }
        let scores = pack.treatments.ids.map { t -> Double in
            if t == choice { return 1 }
            if t == "no_change" { return needsLowering ? 0.05 : 0.3 }
            let s = standing(t)
            if s.contraindicated { return 0.001 }
            if s.taking { return 0.01 }
            if s.indication != nil { return 0.3 }
            return s.against == nil ? 0.1 : 0.03
        }
        let total = scores.reduce(0, +)
        return (choice, scores.map { $0 / total })
    }
}
