import ArgumentParser
import Foundation
import Patients
import Store
import TreatmentModel
import Cohort

/// Options every command takes: where the store and the knowledge pack are.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store (SQLite file). Default: $ROUNDS_DB, else ~/.rounds/rounds.sqlite.", valueName: "path"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("The knowledge pack folder. Default: $ROUNDS_KNOWLEDGE, else the Knowledge folder of this checkout.", valueName: "path"))
    var knowledge: String?

    @Flag(name: .long, help: "Do not generate the synthetic demo cohort into an empty store.")
    var noDemo = false

    @Option(name: .long, help: ArgumentHelp("Sign in as this clinician (default: $ROUNDS_CLINICIAN). Decisions need one.", valueName: "id"))
    var clinician: String?

    @Option(name: .long, help: ArgumentHelp("The signed-in clinician's role (default: $ROUNDS_ROLE, else clinician).", valueName: "role"))
    var role: String?

    public init() {}
}

/// What a command works with: the knowledge pack, the open store, and who is at the keyboard.
/// Everything that touches a patient's data goes into the audit log through `audit`.
final class Context {
    let pack: KnowledgePack
    let store: RoundsStore
    let out: Output
    /// This process's session, named in every audit entry and decision.
    let sessionID = UUID().uuidString.lowercased()
    /// The signed-in clinician and their role.
    private(set) var clinician: String?
    private(set) var role: String?
    /// The operating-system user.
    let user: String
    /// SHA-256 of the knowledge pack's files, computed once (see `Context.knowledgeDigest`).
    private(set) lazy var knowledgeSha256: String = Self.knowledgeDigest(pack)

    /// Opens the pack and the store. With `seedDemo`, an empty store first gets the demo cohort.
    init(_ options: GlobalOptions, seedDemo: Bool = true, out: Output = Output()) throws {
        self.out = out
        do {
            pack = try KnowledgePack(directory: KnowledgePack.locate(explicit: options.knowledge))
        } catch let e as KnowledgeError {
            throw ValidationError(e.description)
        }
        let env = ProcessInfo.processInfo.environment
        user = env["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? NSUserName()
        if let c = options.clinician ?? env["ROUNDS_CLINICIAN"].flatMap({ $0.isEmpty ? nil : $0 }) {
            try Self.checkClinician(c)
            clinician = c
            role = options.role ?? env["ROUNDS_ROLE"].flatMap { $0.isEmpty ? nil : $0 } ?? "clinician"
        }
        let path = RoundsStore.resolvePath(explicit: options.db)
        do { store = try RoundsStore(path: path) } catch let e as StoreError { throw ValidationError(e.description) }
        let noDemo = options.noDemo || ProcessInfo.processInfo.environment["ROUNDS_NO_DEMO"] == "1"
        if try seedDemo && !noDemo && store.patientCount() == 0 {
            out.note("The store at \(path) is empty: generating the synthetic demo cohort (\(CohortGenerator.defaultSize) patients, seed \(CohortGenerator.defaultSeed)).")
            let t = try generateCohort(size: CohortGenerator.defaultSize, seed: CohortGenerator.defaultSeed)
            out.note(String(format: "Generated %d synthetic patients in %.2f s. They are not real people.", CohortGenerator.defaultSize, t))
        }
    }
}

extension Context {
    /// Writes a synthetic cohort into the store (replacing the synthetic patients) and audits it;
    /// returns the seconds it took.
    @discardableResult
    func generateCohort(size: Int, seed: UInt64, progress: ((Int) -> Void)? = nil) throws -> Double {
        let seconds = try CohortWriter(pack: pack, store: store).generate(size: size, seed: seed, progress: progress)
        try audit(.cohortGenerated, action: "C", detail: ["size": String(size), "seed": String(seed)])
        return seconds
    }

    /// Appends an event to the audit log. An event that cannot be logged is an error: what it
    /// would have shown is not shown.
    func audit(_ event: AuditEvent, action: String = "R", patient: String? = nil, outcome: Int = 0, detail: [String: String] = [:]) throws {
        do {
            try store.append(entry(event, action: action, patient: patient, outcome: outcome, detail: detail))
        } catch {
            throw ValidationError("cannot write the audit log, so nothing was shown or changed: \(error)")
        }
    }

    /// An audit entry for this session (not yet in the log).
    func entry(_ event: AuditEvent, action: String = "R", patient: String? = nil, outcome: Int = 0, detail: [String: String] = [:]) -> AuditEntry {
        AuditEntry(event: event, action: action, outcome: outcome, clinician: clinician, role: clinician == nil ? nil : role, user: user,
                   patient: patient, session: sessionID, detail: detail)
    }

    /// Signs a clinician in (or, with nil, out), and logs it.
    func signIn(_ id: String?, role: String?) throws {
        if let id { try Self.checkClinician(id) }
        let previous = clinician
        if id == nil, let previous { try audit(.signOut, action: "E", detail: ["clinician": previous]) }
        clinician = id
        self.role = id == nil ? nil : (role ?? "clinician")
        if id != nil { try audit(.signIn, action: "E") }
    }

    /// A clinician id is one word of letters, digits and `.-_@`, at most 64 characters.
    static func checkClinician(_ id: String) throws {
        let ok = !id.isEmpty && id.count <= 64 && id.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "._-@".unicodeScalars.contains($0) }
        guard ok else { throw ValidationError("'\(id)' is not a clinician id: one word of letters, digits and . - _ @, at most 64 characters") }
    }

    /// SHA-256 over the knowledge pack's files (features, treatments, override reasons,
    /// guideline rules; not the model, which has its own), so a decision says which knowledge
    /// it was made with.
    static func knowledgeDigest(_ pack: KnowledgePack) -> String {
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
                    let last = p.record.visits.count - 1
                    let conditions = extractor.conditionFeatures(for: p.record, asOf: last)
                        + pack.context.conditions(of: p.record, at: p.record.visits[last].date).map(\.condition.id)
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
