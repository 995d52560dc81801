import Cohort
import Foundation
import Patients
import Report
import Review
import Store

/// `rounds bench --report`: how long one case report of a 40-visit patient takes to make, whole:
/// the analysis (model, rules), the explanation (integrated gradients, 50 steps), the decisions
/// read from the store, the page, its audit entry and the file. The model and rules are loaded
/// once, as in a session. Runs on a new store in a temporary folder, removed afterwards.
struct ReportBench: Encodable {
    var visits: Int
    var repetitions: Int
    var medianMilliseconds: Double
    var minMilliseconds: Double
    var maxMilliseconds: Double
    /// Making the page alone from the gathered content.
    var pageMedianMilliseconds: Double
    var pageKilobytes: Double

    static func run(repetitions: Int) throws -> ReportBench {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rounds-report-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pack = try KnowledgePack(directory: KnowledgePack.locate())
        let workspace = Workspace(pack: pack, store: try RoundsStore(path: dir.appendingPathComponent("r.sqlite").path))
        let reviewer = try Reviewer(clinician: "bench", role: nil, user: "bench")
        // The first demo patient with 40 visits.
        let generator = CohortGenerator()
        guard let record = (0..<5000).lazy.map({ generator.patient($0).record }).first(where: { $0.visits.count >= 40 }) else {
            throw ReviewError("no 40-visit patient among the first 5,000 of the demo cohort")
        }
        let review = try ReviewPoint.resolve(record)
        let path = dir.appendingPathComponent("case.html").path
        func ms(_ body: () throws -> Void) rethrows -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        }
        _ = try workspace.model(); _ = try workspace.rules(); _ = workspace.knowledgeSha256
        var whole: [Double] = [], page: [Double] = []
        var bytes = 0
        for _ in 0..<max(repetitions, 3) {
            whole.append(try ms {
                let report = try CaseReport(workspace: workspace, reviewer: reviewer, record: record, review: review)
                bytes = try ReportWriter.write(report, to: path, workspace: workspace, reviewer: reviewer)
            })
        }
        let report = try CaseReport(workspace: workspace, reviewer: reviewer, record: record, review: review)
        for _ in 0..<max(repetitions, 3) { page.append(ms { _ = report.html() }) }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        return ReportBench(visits: min(record.visits.count, PatientAnalysis.maxVisits), repetitions: whole.count, medianMilliseconds: median(whole),
                           minMilliseconds: whole.min()!, maxMilliseconds: whole.max()!, pageMedianMilliseconds: median(page), pageKilobytes: Double(bytes) / 1024)
    }

    func print() {
        Swift.print(String(format: "case report of a %d-visit patient (analysis, explanation, page, audit entry, file): %.1f ms median of %d (%.1f–%.1f); the page alone %.1f ms; %.0f KB",
                           visits, medianMilliseconds, repetitions, minMilliseconds, maxMilliseconds, pageMedianMilliseconds, pageKilobytes))
    }
}
