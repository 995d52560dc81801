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
/// feedback on a forgotten card is refused with a message saying so.
final class CardLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var cards: [String: ServedCard] = [:]
    private var order: [String] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int = 20_000) { self.capacity = capacity }

    func add(_ served: [ServedCard]) {
        lock.withLock {
            for c in served {
                cards[c.uuid] = c
                order.append(c.uuid)
            }
            while order.count - head > capacity {
                cards[order[head]] = nil
                head += 1
            }
            if head > capacity { order.removeFirst(head); head = 0 }
        }
    }

    func card(_ uuid: String) -> ServedCard? { lock.withLock { cards[uuid] } }
}
