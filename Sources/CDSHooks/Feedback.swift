import Foundation
import Patients
import Review
import Store

/// One entry of a CDS Hooks 2.0 feedback request (§ Feedback), checked against the card it
/// is about and turned into the decision the shell's `accept`/`override` would record.
struct FeedbackEntry {
    let index: Int
    let card: ServedCard
    let outcome: DecisionRecord.Outcome
    /// The option chosen and, for an override, its coded reason.
    let chosen: Int
    let reason: OverrideReasons.Reason?
    let note: String?
    let outcomeTimestamp: String

    /// The extension key a client uses to say which option the clinician chose instead when
    /// overriding the recommendation card (CDS Hooks has no field for it; anchors §1.5).
    static let chosenKey = "org.rounds.chosen"

    /// Parses and checks the whole request before anything is recorded.
    static func parse(_ body: Data, service: String, ledger: CardLedger, reasons: OverrideReasons) throws -> [FeedbackEntry] {
        guard !body.isEmpty else { throw CDSHooksError.badRequest("the request body is empty: feedback is {\"feedback\": [...]}") }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: body) } catch { throw CDSHooksError.badRequest("the request body is not valid JSON") }
        guard let o = json as? [String: Any] else { throw CDSHooksError.badRequest("the request body must be a JSON object {\"feedback\": [...]}, not \(JSONKind.name(json))") }
        guard let list = o["feedback"] else { throw CDSHooksError.badRequest("'feedback' is missing: an array of feedback entries") }
        guard let entries = list as? [Any], !entries.isEmpty else { throw CDSHooksError.badRequest("'feedback' must be a non-empty array, not \(JSONKind.name(list))") }
        return try entries.enumerated().map { i, e in try entry(e, i, service: service, ledger: ledger, reasons: reasons) }
    }

    private static func entry(_ value: Any, _ i: Int, service: String, ledger: CardLedger, reasons: OverrideReasons) throws -> FeedbackEntry {
        let at = "feedback[\(i)]"
        guard let e = value as? [String: Any] else { throw CDSHooksError.badRequest("\(at) must be an object, not \(JSONKind.name(value))") }
        guard let uuid = e["card"] as? String, !uuid.isEmpty else { throw CDSHooksError.badRequest("\(at).card is missing: the uuid of the card acted on") }
        guard let card = ledger.card(uuid) else {
            throw CDSHooksError.notFound("\(at).card '\(uuid)' is not a card this service served (or it was served so long ago that it was forgotten)")
        }
        guard card.service == service else { throw CDSHooksError.badRequest("\(at).card '\(uuid)' was served by '\(card.service)', not '\(service)'") }
        guard let outcomeText = e["outcome"] as? String, let outcome = DecisionRecord.Outcome(rawValue: outcomeText) else {
            throw CDSHooksError.badRequest("\(at).outcome must be 'accepted' or 'overridden'")
        }
        guard let timestamp = e["outcomeTimestamp"] as? String, Self.isInstant(timestamp) else {
            throw CDSHooksError.badRequest("\(at).outcomeTimestamp must be an RFC 3339 UTC instant such as 2026-01-31T14:05:00Z")
        }
        let a = card.analysis
        guard card.kind != .notice else {
            // A guideline notice is advice to heed, not a recommendation to decide on.
            return FeedbackEntry(index: i, card: card, outcome: outcome, chosen: -1, reason: nil, note: nil, outcomeTimestamp: timestamp)
        }
        switch outcome {
        case .accepted:
            guard !card.suggestions.isEmpty else {
                throw CDSHooksError.badRequest("\(at): card '\(uuid)' offers no suggestion to accept; to record another choice send 'overridden' with an overrideReason and extension {\"\(chosenKey)\": ID}")
            }
            guard let accepted = e["acceptedSuggestions"] as? [Any], !accepted.isEmpty else {
                throw CDSHooksError.badRequest("\(at).acceptedSuggestions is required for 'accepted': [{\"id\": suggestion uuid}]")
            }
            var chosen: Int?
            for (j, s) in accepted.enumerated() {
                guard let id = (s as? [String: Any])?["id"] as? String, let k = card.suggestions[id] else {
                    throw CDSHooksError.badRequest("\(at).acceptedSuggestions[\(j)].id is not a suggestion of card '\(uuid)'")
                }
                chosen = k
            }
            return FeedbackEntry(index: i, card: card, outcome: .accepted, chosen: chosen!, reason: nil, note: nil, outcomeTimestamp: timestamp)
        case .overridden:
            let override = e["overrideReason"] as? [String: Any]
            guard let coding = override?["reason"] as? [String: Any], let code = coding["code"] as? String else {
                throw CDSHooksError.badRequest("\(at).overrideReason.reason is required: Rounds records an override with its coded reason, one of the card's overrideReasons (\(reasons.reasons.map(\.systemCode).joined(separator: ", ")))")
            }
            guard let reason = reasons.reasons.first(where: { $0.systemCode == code || $0.code == code }) else {
                throw CDSHooksError.badRequest("\(at).overrideReason.reason.code '\(code)' is not one of the card's overrideReasons (\(reasons.reasons.map(\.systemCode).joined(separator: ", ")))")
            }
            let comment = (override?["userComment"] as? String).flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
            var chosen: Int?
            if let ext = e["extension"] as? [String: Any], let id = ext[chosenKey] as? String {
                guard let k = a.treatments.firstIndex(where: { $0.id == id }) else {
                    throw CDSHooksError.badRequest("\(at).extension.\(chosenKey) '\(id)' is not an option: \(a.treatments.map(\.id).joined(separator: ", "))")
                }
                chosen = k
            } else if let d = card.drafted {
                chosen = d
            }
            guard let k = chosen else {
                throw CDSHooksError.badRequest("\(at): an override of the recommendation must say which option was chosen instead, in extension {\"\(chosenKey)\": ID} (\(a.treatments.map(\.id).joined(separator: ", ")))")
            }
            guard k != a.top else {
                throw CDSHooksError.badRequest("\(at): \(a.treatments[k].id) is the model's recommendation; choosing it is 'accepted', not 'overridden'")
            }
            return FeedbackEntry(index: i, card: card, outcome: .overridden, chosen: k, reason: reason, note: comment, outcomeTimestamp: timestamp)
        }
    }

    /// RFC 3339 date-time in UTC (`Z`), with or without fractional seconds.
    static func isInstant(_ s: String) -> Bool {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if s.hasSuffix("Z"), f.date(from: s) != nil { return true }
        f.formatOptions = [.withInternetDateTime]
        return s.hasSuffix("Z") && f.date(from: s) != nil
    }
}
