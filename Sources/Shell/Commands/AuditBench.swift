import Foundation
import Patients
import Store

/// `rounds bench --audit N`: how fast the audit log appends, verifies and exports, and that
/// verifying and exporting stream (peak memory does not grow with N). Runs on a new store in a
/// temporary folder, removed afterwards.
struct AuditBench: Encodable {
    var entries: Int
    var appendPerSecond: Double
    var verifyPerSecond: Double
    /// Seconds of CPU (all threads) that verifying the store took: the fairer figure on a loaded machine.
    var verifyCPUSeconds: Double
    var verifySeconds: Double
    var exportPerSecond: Double
    var exportMegabytes: Double
    var verifyFilePerSecond: Double
    var peakResidentMegabytes: Double
    var residentBeforeVerifyMegabytes: Double
    /// One decision's inclusion proof (recorded mid-log): the first signs a new checkpoint
    /// (Ed25519, one committed transaction), the rest reuse it; median of the rest.
    var proveFirstMilliseconds: Double
    var proveMilliseconds: Double
    var proofHashes: Int

    static func peakRSS() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    static func run(entries n: Int) throws -> AuditBench {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rounds-audit-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try RoundsStore(path: dir.appendingPathComponent("r.sqlite").path)
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
        // Entries shaped like a day's work: opens, recommendations, explanations.
        let events: [AuditEvent] = [.patientOpened, .recommendationShown, .explanationShown, .guidelinesShown]
        var decisionID: String?
        let append = try seconds {
            var done = 0
            while done < n {
                let batch = (done..<min(n, done + 10_000)).map { (i: Int) -> AuditEntry in
                    let detail: [String: String] = ["visit": String(i % 40 + 1), "model_sha256": String(repeating: "f", count: 64), "top": "sglt2", "top_probability": "0.8123"]
                    let patient = String(format: "demo-%05d", i % 5000 + 1)
                    return AuditEntry(event: events[i % events.count], action: "R", clinician: "dr-\(i % 17)", role: "physician", user: "bench",
                                      patient: patient, session: "bench-\(i / 1000)", detail: detail)
                }
                try store.append(batch)
                done += batch.count
                if done >= n / 2 && decisionID == nil { decisionID = try store.record(benchDecision(), audit: benchDecisionEntry()).decision.id }
            }
        }
        let before = peakRSS()
        var verification = AuditVerification()
        let cpu0 = cpuSeconds()
        let verify = try seconds { verification = try store.verifyAudit() }
        let verifyCPU = cpuSeconds() - cpu0
        guard verification.ok, verification.entries == n + 1, verification.decisions == 1 else { throw StoreError.corrupt("the benchmark's own log did not verify: \(verification.problems)") }
        let out = dir.appendingPathComponent("audit.jsonl").path
        var summary: AuditExportSummary?
        let export = try seconds { summary = try store.exportAudit(AuditExportOptions(format: .jsonl), to: out, exportedAt: ClinicalCalendar.instantString(Date(), milliseconds: true)) }
        var fileCheck = AuditVerification()
        let verifyFile = try seconds { fileCheck = try AuditFileVerifier.verify(path: out) }
        guard fileCheck.ok else { throw StoreError.corrupt("the benchmark's export did not verify: \(fileCheck.problems)") }
        try store.append(AuditEntry(event: .auditExported, action: "R", clinician: nil, role: nil, user: "bench", patient: nil, session: "bench"))
        var proof: AuditProof?
        let first = try seconds { proof = try store.proveDecision(decisionID!) }
        let again = try (0..<21).map { _ in try seconds { proof = try store.proveDecision(decisionID!) } }.sorted()[10]
        guard let proof, proof.verify(with: store.signingKey.publicKey).ok else { throw StoreError.corrupt("the benchmark's proof did not verify") }
        return AuditBench(entries: n, appendPerSecond: Double(n) / append, verifyPerSecond: Double(n) / verify, verifyCPUSeconds: verifyCPU, verifySeconds: verify, exportPerSecond: Double(n) / export,
                          exportMegabytes: Double(summary?.bytes ?? 0) / 1e6, verifyFilePerSecond: Double(n) / verifyFile,
                          peakResidentMegabytes: peakRSS(), residentBeforeVerifyMegabytes: before,
                          proveFirstMilliseconds: first * 1000, proveMilliseconds: again * 1000, proofHashes: proof.path.count)
    }

    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    static func benchDecision() -> DecisionRecord {
        DecisionRecord(clinician: "dr-bench", role: "physician", sessionId: "bench", patient: "demo-00001", visit: 3, visitDate: "2024-01-02",
                       modelVersion: "bench", modelSha256: String(repeating: "a", count: 64), knowledgeSha256: String(repeating: "b", count: 64),
                       input: .init(visits: 1, features: 2, values: [0.1, -1.25], visitDates: ["2024-01-02"]),
                       treatments: ["metformin", "sglt2"], probabilities: [0.3, 0.7], displayedOrder: ["sglt2", "metformin"],
                       guidelineStatuses: ["metformin": "neutral", "sglt2": "indicated"], firedRules: [], recommended: "sglt2", chosen: "sglt2",
                       outcome: .accepted, reason: nil, note: nil, contraindicatedChoice: false, reward: 1, rewardRule: "bench")
    }

    static func benchDecisionEntry() -> AuditEntry {
        AuditEntry(event: .decisionRecorded, action: "C", clinician: "dr-bench", role: "physician", user: "bench", patient: "demo-00001", session: "bench")
    }

    func print() {
        Swift.print(String(format: "audit log, %d entries: append %.0f entries/s (batches of 10,000); verify the store %.0f entries/s (%.2f s, %.2f s of CPU)",
                           entries, appendPerSecond, verifyPerSecond, verifySeconds, verifyCPUSeconds))
        Swift.print(String(format: "export JSONL %.0f entries/s (%.1f MB); verify the file offline %.0f entries/s", exportPerSecond, exportMegabytes, verifyFilePerSecond))
        Swift.print(String(format: "one decision's inclusion proof (%d hashes): %.2f ms signing a new checkpoint, %.2f ms under the latest (median of 21)",
                           proofHashes, proveFirstMilliseconds, proveMilliseconds))
        Swift.print(String(format: "peak resident memory %.0f MB (%.0f MB before verifying and exporting)", peakResidentMegabytes, residentBeforeVerifyMegabytes))
    }
}
