import Foundation
import Patients

/// One guideline rule, in the manner of semgrep's and ruff's registries: a stable id, what it
/// is about, how urgent (the CDS Hooks card indicators), which treatments it speaks to, when it
/// fires, what it says (with the patient's values filled in), and where it comes from.
public struct Rule: Sendable {
    /// `deintensification` asks to reduce or stop a drug the patient takes (a sulfonylurea or
    /// insulin after hypoglycaemia): no model option says so, so the checks must.
    public enum Kind: String, Sendable, Codable, CaseIterable { case indication, contraindication, caution, monitoring, deintensification }
    public enum Severity: String, Sendable, Codable, Comparable {
        case info, warning, critical
        public static func < (a: Severity, b: Severity) -> Bool { order(a) < order(b) }
        static func order(_ s: Severity) -> Int { s == .info ? 0 : (s == .warning ? 1 : 2) }
    }

    /// Where a rule comes from, as published: the document and its section always; the
    /// recommendation number (and its grade) only where it was read in the source or a named
    /// secondary source (`checkedIn`), so no citation carries a number nobody checked.
    public struct Reference: Sendable, Codable, Equatable {
        public var organization: String
        public var document: String
        public var edition: String?
        public var section: String
        /// The recommendation or practice-point number as the source numbers it.
        public var recommendation: String?
        public var grade: String?
        public var url: String?
        /// Where the recommendation number and grade were read (required with a number).
        public var checkedIn: String?
        public var note: String?

        public init(organization: String, document: String, edition: String? = nil, section: String, recommendation: String? = nil,
                    grade: String? = nil, url: String? = nil, checkedIn: String? = nil, note: String? = nil) {
            self.organization = organization; self.document = document; self.edition = edition; self.section = section
            self.recommendation = recommendation; self.grade = grade; self.url = url; self.checkedIn = checkedIn; self.note = note
        }

        public var citation: String {
            var s = organization + " " + document
            if let e = edition { s += " (\(e))" }
            s += ", \(section)"
            if let r = recommendation { s += (r.lowercased().hasPrefix("practice point") ? ", " : ", rec. ") + r }
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
