import Foundation
import Patients

/// One guideline rule, in the manner of semgrep's and ruff's registries: a stable id, what it
/// is about, how urgent (the CDS Hooks card indicators), which treatments it speaks to, when it
/// fires, what it says (with the patient's values filled in), and where it comes from.
public struct Rule: Sendable {
    public enum Kind: String, Sendable, Codable { case indication, contraindication, caution, monitoring }
    public enum Severity: String, Sendable, Codable, Comparable {
        case info, warning, critical
        public static func < (a: Severity, b: Severity) -> Bool { order(a) < order(b) }
        static func order(_ s: Severity) -> Int { s == .info ? 0 : (s == .warning ? 1 : 2) }
    }

    public struct Reference: Sendable, Codable, Equatable {
        public var organization: String
        public var document: String
        public var edition: String?
        public var section: String?
        /// The recommendation number, when the source numbers it.
        public var recommendation: String?
        public var grade: String?
        public var url: String?
        /// False where the number or wording could not be checked against the source text.
        public var verified: Bool
        public var note: String?

        public var citation: String {
            var s = organization + " " + document
            if let e = edition { s += " (\(e))" }
            if let sec = section { s += ", \(sec)" }
            if let r = recommendation { s += ", rec. \(r)" + (verified ? "" : " [number unverified]") }
            if let g = grade { s += ", grade \(g)" }
            return s
        }
    }

    public var id: String
    public var title: String
    public var kind: Kind
    public var severity: Severity
    public var appliesTo: [String]
    public var whenText: String
    public var when: Condition
    public var message: String
    /// Said instead when a fact the rule needs is missing or stale.
    public var unknownMessage: String?
    public var references: [Reference]
    /// Where the rule is written: file and line.
    public var file: String
    public var line: Int
}

/// A rule as it applies to one patient.
public struct Finding: Sendable, Codable {
    public enum Status: String, Sendable, Codable { case fired, unknown }
    public var rule: String
    public var title: String
    public var kind: Rule.Kind
    public var severity: Rule.Severity
    public var status: Status
    public var treatments: [String]
    /// The message with the patient's values filled in.
    public var message: String
    /// The facts used: feature, value, unit, date.
    public var evidence: [Evidence]
    public var missing: [String]
    public var references: [Rule.Reference]
    /// The rule fires because a fact is missing (`not known egfr …`): the status is "recheck".
    public var aboutMissingData: Bool

    public struct Evidence: Sendable, Codable { public var feature: String; public var value: Double; public var unit: String; public var date: String }
}

/// A treatment's standing under the rules that fired for it, worst first.
public enum GuidelineStatus: String, Sendable, Codable, Comparable {
    case contraindicated, caution, recheck, indicated, neutral
    public static func < (a: GuidelineStatus, b: GuidelineStatus) -> Bool { a.rank < b.rank }
    var rank: Int { [.contraindicated: 0, .caution: 1, .recheck: 2, .indicated: 3, .neutral: 4][self]! }
    public var label: String {
        switch self {
        case .contraindicated: "CONTRAINDICATED"
        case .caution: "caution"
        case .recheck: "recheck data"
        case .indicated: "indicated"
        case .neutral: "no rule"
        }
    }
}
