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
    var exportPerSecond: Double
    var exportMegabytes: Double
    var verifyFilePerSecond: Double
    var peakResidentMegabytes: Double
    var residentBeforeVerifyMegabytes: Double

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
            }
        }
        let before = peakRSS()
        var verification = AuditVerification()
        let verify = try seconds { verification = try store.verifyAudit() }
        guard verification.ok, verification.entries == n else { throw StoreError.corrupt("the benchmark's own log did not verify: \(verification.problems)") }
        let out = dir.appendingPathComponent("audit.jsonl").path
        var summary: AuditExportSummary?
        let export = try seconds { summary = try store.exportAudit(AuditExportOptions(format: .jsonl), to: out, exportedAt: ClinicalCalendar.instantString(Date(), milliseconds: true)) }
        var fileCheck = AuditVerification()
        let verifyFile = try seconds { fileCheck = try AuditFileVerifier.verify(path: out) }
        guard fileCheck.ok else { throw StoreError.corrupt("the benchmark's export did not verify: \(fileCheck.problems)") }
        return AuditBench(entries: n, appendPerSecond: Double(n) / append, verifyPerSecond: Double(n) / verify, exportPerSecond: Double(n) / export,
                          exportMegabytes: Double(summary?.bytes ?? 0) / 1e6, verifyFilePerSecond: Double(n) / verifyFile,
                          peakResidentMegabytes: peakRSS(), residentBeforeVerifyMegabytes: before)
    }

    func print() {
        Swift.print(String(format: "audit log, %d entries: append %.0f entries/s (batches of 10,000); verify the store %.0f entries/s", entries, appendPerSecond, verifyPerSecond))
        Swift.print(String(format: "export JSONL %.0f entries/s (%.1f MB); verify the file offline %.0f entries/s", exportPerSecond, exportMegabytes, verifyFilePerSecond))
        Swift.print(String(format: "peak resident memory %.0f MB (%.0f MB before verifying and exporting)", peakResidentMegabytes, residentBeforeVerifyMegabytes))
    }
}
