/// The CDS Hooks 2.0 response objects Rounds sends (§ CDS Service Response): cards with their
/// source, suggestions, actions, override reasons and links. Field names are the specification's.
struct CardsResponse: Encodable { var cards: [Card] }

struct Card: Encodable {
    var uuid: String
    /// "One-sentence, <140-character summary message for display to the user."
    var summary: String
    /// GitHub Flavored Markdown.
    var detail: String?
    /// info | warning | critical.
    var indicator: String
    var source: Source
    var suggestions: [Suggestion]?
    var selectionBehavior: String?
    var overrideReasons: [Coding]?
    var links: [Link]?
    /// Reverse-domain keys for what CDS Hooks has no field for (model hash, distribution, rule ids).
    var `extension`: [String: ExtensionValue]?

    /// The summary rule: under 140 characters, cut at a word with an ellipsis when longer.
    static func summary(_ s: String) -> String {
        guard s.count >= 140 else { return s }
        let cut = s.prefix(138)
        let word = cut.lastIndex(of: " ").map { cut[..<$0] } ?? cut
        return String(word) + "…"
    }
}

struct Source: Encodable {
    var label: String
    var url: String?
    var topic: Coding?
}

struct Coding: Encodable, Equatable {
    var system: String
    var code: String
    var display: String?
}

struct Suggestion: Encodable {
    var label: String
    var uuid: String
    var isRecommended: Bool?
    var actions: [Action]?
}

struct Action: Encodable {
    var type: String
    var description: String
    var resource: DraftMedicationRequest?
}

struct Link: Encodable {
    var label: String
    var url: String
    var type: String
}

/// The MedicationRequest a suggestion proposes: a draft for the clinician to complete and sign.
struct DraftMedicationRequest: Encodable {
    struct Reference: Encodable { var reference: String }
    struct CodeableConcept: Encodable { var text: String; var coding: [Coding] }
    var resourceType = "MedicationRequest"
    var status = "draft"
    var intent = "proposal"
    var subject: Reference
    var medicationCodeableConcept: CodeableConcept
}

/// A value under `extension`: a string, a number, a list of strings or a map of numbers.
enum ExtensionValue: Encodable {
    case string(String), number(Double), strings([String]), numbers([String: Double])
    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let n): try c.encode(n)
        case .strings(let s): try c.encode(s)
        case .numbers(let m): try c.encode(m)
        }
    }
}
