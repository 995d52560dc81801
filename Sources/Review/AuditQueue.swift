import Foundation
import Store

/// Appends audit entries for many concurrent callers on a thread of its own, the entries that
/// arrive while one transaction commits going together in the next.
///
/// Why: a commit waits for the disk (the store syncs every commit, several milliseconds here).
/// Done inline by a service's request, that wait held one of the few threads Swift's
/// concurrency runs tasks on (one per core), so under load the cores idled while requests
/// queued, and the store's one writer made one sync per entry. A caller still resumes only
/// once its entry is committed, so what is audited is written before it is shown; the entries
/// of one batch are chained in the order they arrived.
public final class AuditQueue: @unchecked Sendable {
    private let store: RoundsStore
    private let lock = NSLock()
    private var pending: [(entry: AuditEntry, done: CheckedContinuation<Void, Error>)] = []
    private var writing = false
    private let queue = DispatchQueue(label: "rounds.audit-queue")

    public init(store: RoundsStore) { self.store = store }

    /// Returns once `entry` is committed; throws the store's error if its transaction failed.
    public func append(_ entry: AuditEntry) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
            let start: Bool = lock.withLock {
                pending.append((entry, done))
                if writing { return false }
                writing = true
                return true
            }
            if start { queue.async { self.drain() } }
        }
    }

    /// Commits what is pending, batch after batch, until nothing is.
    private func drain() {
        while true {
            let batch: [(entry: AuditEntry, done: CheckedContinuation<Void, Error>)] = lock.withLock {
                let b = pending
                pending = []
                if b.isEmpty { writing = false }
                return b
            }
            if batch.isEmpty { return }
            do {
                try store.append(batch.map(\.entry))
                for b in batch { b.done.resume() }
            } catch {
                for b in batch { b.done.resume(throwing: error) }
            }
        }
    }
}
