import ArgumentParser
import Foundation
import Patients
import Store
import Cohort

/// Options every command takes: where the store and the knowledge pack are.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store (SQLite file). Default: $ROUNDS_DB, else ~/.rounds/rounds.sqlite.", valueName: "path"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("The knowledge pack folder. Default: $ROUNDS_KNOWLEDGE, else the Knowledge folder of this checkout.", valueName: "path"))
    var knowledge: String?

    @Flag(name: .long, help: "Do not generate the synthetic demo cohort into an empty store.")
    var noDemo = false

    public init() {}
}

/// What a command works with: the knowledge pack and the open store.
final class Context {
    let pack: KnowledgePack
    let store: RoundsStore
    let out: Output

    /// Opens the pack and the store. With `seedDemo`, an empty store first gets the demo cohort.
    init(_ options: GlobalOptions, seedDemo: Bool = true, out: Output = Output()) throws {
        self.out = out
        do {
            pack = try KnowledgePack(directory: KnowledgePack.locate(explicit: options.knowledge))
        } catch let e as KnowledgeError {
            throw ValidationError(e.description)
        }
        let path = RoundsStore.resolvePath(explicit: options.db)
        do { store = try RoundsStore(path: path) } catch let e as StoreError { throw ValidationError(e.description) }
        let noDemo = options.noDemo || ProcessInfo.processInfo.environment["ROUNDS_NO_DEMO"] == "1"
        if try seedDemo && !noDemo && store.patientCount() == 0 {
            out.note("The store at \(path) is empty: generating the synthetic demo cohort (\(CohortGenerator.defaultSize) patients, seed \(CohortGenerator.defaultSeed)).")
            let t = try CohortWriter(pack: pack, store: store).generate(size: CohortGenerator.defaultSize, seed: CohortGenerator.defaultSeed)
            out.note(String(format: "Generated %d synthetic patients in %.2f s. They are not real people.", CohortGenerator.defaultSize, t))
        }
    }
}

/// Writes a generated cohort into the store in batches, generating each batch on all cores.
struct CohortWriter {
    let pack: KnowledgePack
    let store: RoundsStore
    static let batchSize = 2_000

    /// Returns the seconds it took.
    @discardableResult
    func generate(size: Int, seed: UInt64, progress: ((Int) -> Void)? = nil) throws -> Double {
        let missing = ResponseSimulator.treatments.filter { pack.treatments.option(id: $0) == nil }
        guard missing.isEmpty else { throw ValidationError("treatments.yaml lacks options the demo cohort uses: \(missing.joined(separator: ", "))") }
        let start = Date()
        let generator = CohortGenerator(seed: seed)
        let extractor = FeatureExtractor(pack: pack)
        try store.replaceCohort(seed: seed, size: size, generator: CohortGenerator.version) { write in
            var done = 0
            while done < size {
                let n = min(Self.batchSize, size - done)
                let base = done
                let batch = ParallelMap.map(count: n) { i -> SyntheticPatient in
                    let p = generator.patient(base + i)
                    let conditions = extractor.conditionFeatures(for: p.record, asOf: p.record.visits.count - 1)
                    return SyntheticPatient(record: p.record, summary: PatientSummaryFields(conditions: conditions), label: p.label,
                                            traits: p.traits.values, utilities: p.utilities, visitLabels: p.visitLabels)
                }
                try write(batch)
                done += n
                progress?(done)
            }
        }
        return Date().timeIntervalSince(start)
    }
}

/// `map` over 0..<count on every core, results in order.
enum ParallelMap {
    static func map<T: Sendable>(count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
        slots.initialize(repeating: nil)
        defer { slots.deallocate() }
        nonisolated(unsafe) let shared = slots
        let chunk = (count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = w * chunk, hi = min(count, lo + chunk)
            if lo < hi { for i in lo..<hi { shared[i] = body(i) } }
        }
        let out = slots.map { $0! }
        slots.deinitialize()  // releases the elements; deallocate follows in defer
        return out
    }
}
