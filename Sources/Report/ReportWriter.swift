import Foundation
import Review
import Store

/// Makes a report a disclosure on record: the audit entry is appended first (an entry that
/// cannot be written means no report), then the page is written whole (a temporary file moved
/// into place, so a reader never sees half a page).
public enum ReportWriter {
    /// Audits `report` as `reviewer`'s and writes it to `path`; returns the bytes written.
    @discardableResult
    public static func write(_ report: CaseReport, to path: String, workspace: Workspace, reviewer: Reviewer) throws -> Int {
        let html = report.html()
        try workspace.audit(reviewer.entry(.reportMade, patient: report.record.id, detail: report.auditDetail(out: path)))
        let url = URL(fileURLWithPath: path)
        let data = Data(html.utf8)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw ReviewError("cannot write the report to \(path): \(error.localizedDescription)")
        }
        return data.count
    }
}
