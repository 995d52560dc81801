import Foundation
import Patients
import Review

/// A card the service served, kept so that feedback on it can be recorded as the decision on
/// exactly what the clinician saw: the analysis (model, input, distribution, guideline
/// statuses), the patient record it was made from, who asked and through which hook call.
struct ServedCard: @unchecked Sendable {
    enum Kind: String { case recommendation, order, notice }
    let uuid: String
    let kind: Kind
    let service: String
    let hookInstance: String
    let client: String
    let reviewer: Reviewer
    let analysis: PatientAnalysis
    /// Suggestion uuid -> treatment index.
    let suggestions: [String: Int]
    /// For an order card, the drafted medication's treatment index.
    let drafted: Int?
}

/// The cards served lately, by uuid, in memory (never written outside the store): feedback
/// comes for cards of this process's life. Bounded: the oldest are forgotten first, and
/// feedback on a forgotten card is refused with a message saying so. It also holds each card's
/// report-link token (`ReportLink`) with its expiry; a forgotten card's token opens nothing.
final class CardLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var cards: [String: ServedCard] = [:]
    /// Report-link token -> (card uuid, expiry); card uuid -> its token.
    private var links: [String: (uuid: String, expires: Date)] = [:]
    private var tokenOf: [String: String] = [:]
    private var order: [String] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int = 20_000) { self.capacity = capacity }

    /// Keeps `served`, and `tokens` (card uuid -> report-link token) valid until `expires`.
    func add(_ served: [ServedCard], tokens: [String: String] = [:], expires: Date = .distantPast) {
        lock.withLock {
            for c in served {
                cards[c.uuid] = c
                order.append(c.uuid)
                if let t = tokens[c.uuid] { links[t] = (c.uuid, expires); tokenOf[c.uuid] = t }
            }
            while order.count - head > capacity {
                let old = order[head]
                cards[old] = nil
                if let t = tokenOf.removeValue(forKey: old) { links[t] = nil }
                head += 1
            }
            if head > capacity { order.removeFirst(head); head = 0 }
        }
    }

    func card(_ uuid: String) -> ServedCard? { lock.withLock { cards[uuid] } }

    /// The card a report-link token opens at `now`: nil for an unknown, forgotten or expired
    /// token (an expired one is dropped).
    func card(token: String, at now: Date) -> ServedCard? {
        lock.withLock {
            guard let l = links[token] else { return nil }
            guard now < l.expires else { links[token] = nil; tokenOf[l.uuid] = nil; return nil }
            return cards[l.uuid]
        }
    }
}
