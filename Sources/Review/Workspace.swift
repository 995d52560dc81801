import Cohort
import Foundation
import Guidelines
import Patients
import Store
import TreatmentModel

/// What every review works with: the knowledge pack, the open store, and the model, guideline
/// rules and override reasons loaded from them once. Each front end (the shell, the service)
/// opens one. It may be shared between threads: the store is a GRDB pool that serializes its
/// writes, and the caches are behind a lock.
public final class Workspace: @unchecked Sendable {
    public let pack: KnowledgePack
    public let store: RoundsStore
    private let lock = NSLock()
    private var cachedModel: DefaultModel.Loaded?
    private var cachedRules: RuleBook?
    private var cachedReasons: OverrideReasons?
    private var cachedKnowledgeSha256: String?

    /// Opens the knowledge pack (`knowledge`, else $ROUNDS_KNOWLEDGE, else this checkout's) and
    /// the store (`db`, else $ROUNDS_DB, else ~/.rounds/rounds.sqlite).
    public convenience init(knowledge: String?, db: String?) throws {
        let pack: KnowledgePack
        do { pack = try KnowledgePack(directory: KnowledgePack.locate(explicit: knowledge)) } catch let e as KnowledgeError { throw ReviewError(e.description) }
        let store: RoundsStore
        do { store = try RoundsStore(path: RoundsStore.resolvePath(explicit: db)) } catch let e as StoreError { throw ReviewError(e.description) }
        self.init(pack: pack, store: store)
    }

    public init(pack: KnowledgePack, store: RoundsStore) {
        self.pack = pack
        self.store = store
        self.auditQueue = AuditQueue(store: store)
    }

    /// Appends for concurrent callers off their threads, in shared transactions (a service's requests).
    private let auditQueue: AuditQueue

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// SHA-256 of the knowledge pack's files, computed once (see `knowledgeDigest`).
    public var knowledgeSha256: String {
        locked {
            if let s = cachedKnowledgeSha256 { return s }
            let s = Self.knowledgeDigest(pack)
            cachedKnowledgeSha256 = s
            return s
        }
    }

    /// The coded override reasons, loaded once.
    public func overrideReasons() throws -> OverrideReasons {
        try locked {
            if let r = cachedReasons { return r }
            do {
                let r = try OverrideReasons.load(from: pack.directory)
                cachedReasons = r
                return r
            } catch let e as KnowledgeError { throw ReviewError(e.description) }
        }
    }

    /// The treatment model in use (the store's active learned version, else the pack's default), loaded once.
    public func model() throws -> DefaultModel.Loaded {
        try locked {
            if let m = cachedModel { return m }
            let m = try DefaultModel.inUse(store: store, pack: pack)
            cachedModel = m
            return m
        }
    }

    /// Forgets the loaded model, so the next review loads the one now in use.
    public func modelChanged() { locked { cachedModel = nil } }

    /// The guideline rules, loaded once; a broken rule file is an error that names it.
    public func rules() throws -> RuleBook {
        try locked {
            if let r = cachedRules { return r }
            do {
                let r = try RuleBook(pack: pack)
                cachedRules = r
                return r
            } catch let e as RuleBook.Problems { throw ReviewError("the guideline files are broken (`rounds guidelines lint`):\n" + e.description) }
        }
    }

    /// Appends an entry to the audit log. An entry that cannot be logged is an error: what it
    /// would have shown is not shown.
    @discardableResult
    public func audit(_ entry: AuditEntry) throws -> AuditEntry {
        do {
            return try store.append(entry)
        } catch {
            throw Self.unwritable(error)
        }
    }

    private static func unwritable(_ error: Error) -> ReviewError {
        ReviewError("cannot write the audit log, so nothing was shown or changed: \(error)")
    }

    /// `audit`, for a caller that may wait: suspends until the entry is committed, through
    /// `auditQueue` (with the entries of concurrent callers, none of their threads blocked on the disk).
    public func auditCommitted(_ entry: AuditEntry) async throws {
        do {
            try await auditQueue.append(entry)
        } catch {
            throw Self.unwritable(error)
        }
    }

    /// Writes a synthetic cohort into the store (replacing the synthetic patients) and audits it
    /// as `reviewer`'s; returns the seconds it took.
    @discardableResult
    public func generateCohort(size: Int, seed: UInt64, by reviewer: Reviewer, progress: ((Int) -> Void)? = nil) throws -> Double {
        let seconds = try CohortWriter(pack: pack, store: store).generate(size: size, seed: seed, progress: progress)
        try audit(reviewer.entry(.cohortGenerated, action: "C", detail: ["size": String(size), "seed": String(seed)]))
        return seconds
    }

    /// SHA-256 over the knowledge pack's files (features, treatments, override reasons,
    /// guideline rules; not the model, which has its own), so a decision says which knowledge
    /// it was made with.
    public static func knowledgeDigest(_ pack: KnowledgePack) -> String {
        let fm = FileManager.default
        let dir = pack.directory
        var names = ["features.yaml", "treatments.yaml", "context.yaml", "population.yaml", OverrideReasons.fileName]
        let guidelines = ((try? fm.contentsOfDirectory(atPath: dir.appendingPathComponent("guidelines").path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
        names += guidelines.map { "guidelines/" + $0 }
        var listing = ""
        for n in names {
            guard let data = fm.contents(atPath: dir.appendingPathComponent(n).path) else { continue }
            listing += "\(n) \(Digest.sha256(data))\n"
        }
        return Digest.sha256(listing)
    }
}

/// Writes a generated cohort into the store in batches, generating each batch on all cores.
public struct CohortWriter {
    public let pack: KnowledgePack
    public let store: RoundsStore
    public static let batchSize = 2_000

    public init(pack: KnowledgePack, store: RoundsStore) {
        self.pack = pack
        self.store = store
    }

    /// Returns the seconds it took.
    @discardableResult
    public func generate(size: Int, seed: UInt64, progress: ((Int) -> Void)? = nil) throws -> Double {
        let missing = ResponseSimulator.treatments.filter { pack.treatments.option(id: $0) == nil }
        guard missing.isEmpty else { throw ReviewError("treatments.yaml lacks options the demo cohort uses: \(missing.joined(separator: ", "))") }
        let start = Date()
        let generator = CohortGenerator(seed: seed)
        let extractor = FeatureExtractor(pack: pack)
        let context = pack.context
        try store.replaceCohort(seed: seed, size: size, generator: CohortGenerator.version) { write in
            var done = 0
            while done < size {
                let n = min(Self.batchSize, size - done)
                let base = done
                let batch = ParallelMap.map(count: n) { i -> SyntheticPatient in
                    let p = generator.patient(base + i)
                    let last = p.record.visits.count - 1
                    let conditions = extractor.conditionFeatures(for: p.record, asOf: last)
                        + context.conditions(of: p.record, at: p.record.visits[last].date).map(\.condition.id)
                    return SyntheticPatient(record: p.record, summary: PatientSummaryFields(conditions: conditions), label: p.label,
                                            traits: p.traits.values, utilities: p.utilities, visitLabels: p.visitLabels,
                                            visitUtilities: p.visitUtilities)
                }
                try write(batch)
                done += n
                progress?(done)
            }
        }
        return Date().timeIntervalSince(start)
    }
}
