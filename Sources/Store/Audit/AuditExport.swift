import Foundation
import GRDB

/// What `audit export` writes and which entries.
public struct AuditExportOptions: Sendable {
    public enum Format: String, Sendable, CaseIterable { case jsonl, csv, fhir, cdsHooks = "cds-hooks" }
    public var format: Format
    /// Inclusive bounds on `recorded`, RFC 3339 UTC (`AuditExportOptions.bound` turns a day into one).
    public var since: String?
    public var until: String?
    public var patient: String?
    public var clinician: String?
    public var pseudonymize: Bool
    public init(format: Format, since: String? = nil, until: String? = nil, patient: String? = nil, clinician: String? = nil, pseudonymize: Bool = false) {
        self.format = format; self.since = since; self.until = until; self.patient = patient; self.clinician = clinician; self.pseudonymize = pseudonymize
    }
    /// Whether every entry is exported, so the file holds the whole chain.
    public var complete: Bool { since == nil && until == nil && patient == nil && clinician == nil }

    /// `2026-11-23` or `2026-11-23T10:00:00Z` (with optional fraction) as an RFC 3339 bound with
    /// milliseconds; a day means its start (`since`) or its end (`until`). Nil if unreadable.
    public static func bound(_ text: String, end: Bool) -> String? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let day = #"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"#
        if t.range(of: day + "$", options: .regularExpression) != nil { return t + (end ? "T23:59:59.999Z" : "T00:00:00.000Z") }
        if t.range(of: day + #"T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$"#, options: .regularExpression) != nil { return String(t.dropLast()) + (end ? ".999Z" : ".000Z") }
        if t.range(of: day + #"T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$"#, options: .regularExpression) != nil { return t }
        return nil
    }
}

public struct AuditExportSummary: Sendable, Encodable {
    public var path: String
    public var format: String
    public var entries: Int
    public var decisions: Int
    public var pseudonymized: Bool
    public var complete: Bool
    public var bytes: Int
    /// Signed checkpoints carried (complete plain JSONL exports).
    public var checkpoints = 0
}

extension RoundsStore {
    /// Signs a checkpoint of the log, then streams the chosen entries to `path` (through a
    /// temporary file renamed into place, so a failed export leaves no partial file), from one
    /// read snapshot, in bounded memory. A complete plain JSONL export carries every checkpoint
    /// up to the snapshot's head.
    public func exportAudit(_ options: AuditExportOptions, to path: String, exportedAt: String) throws -> AuditExportSummary {
        try writeCheckpoint(reason: "export")
        let tmp = path + ".partial-\(getpid())"
        guard let writer = BufferedWriter(path: tmp) else {
            throw StoreError.cannotOpen(path: path, reason: "cannot write the export: \(String(cString: strerror(errno)))")
        }
        var summary = AuditExportSummary(path: path, format: options.format.rawValue, entries: 0, decisions: 0, pseudonymized: options.pseudonymize,
                                         complete: options.complete, bytes: 0)
        do {
            try pool.read { db in
                let pseudonymizer = options.pseudonymize ? try makePseudonymizer(db) : nil
                var sql = options.format == .cdsHooks
                    ? "SELECT d.body FROM decision d JOIN audit a ON a.seq = d.audit_seq"
                    : "SELECT a.seq, a.content, a.content_hash, a.prev_hash, a.hash FROM audit a"
                var clauses: [String] = [], args: [any DatabaseValueConvertible] = []
                if let s = options.since { clauses.append("a.recorded_at >= ?"); args.append(s) }
                if let u = options.until { clauses.append("a.recorded_at <= ?"); args.append(u) }
                if let p = options.patient { clauses.append("a.patient_id = ?"); args.append(p) }
                if let c = options.clinician { clauses.append("a.clinician = ?"); args.append(c) }
                if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
                sql += " ORDER BY a.seq"
                let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1")
                let size = (head?["seq"] as Int?).map { $0 + 1 } ?? 0
                let checkpoints = try Self.checkpoints(db).filter { $0.size <= size }
                var format = AuditFileFormat(options: options, exportedAt: exportedAt, headSeq: head?["seq"], headHash: head?["hash"], pseudonymizer: pseudonymizer,
                                             checkpoints: checkpoints, log: signingKey.publicKey.keyID)
                writer.write(try format.prologue())
                summary.checkpoints = format.checkpoints.count
                let rows = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(args))
                while let r = try rows.next() {
                    if options.format == .cdsHooks {
                        writer.write(try format.feedback(Self.decodeDecision(r["body"])))
                        summary.decisions += 1
                    } else {
                        let entry = try AuditEntry.parse(r["content"])
                        writer.write(try format.entry(entry, content: r["content"], contentHash: r["content_hash"], prevHash: r["prev_hash"], hash: r["hash"]))
                        if entry.event == .decisionRecorded { summary.decisions += 1 }
                    }
                    summary.entries += 1
                }
                writer.write(try format.epilogue(count: summary.entries))
            }
            summary.bytes = try writer.finish()
        } catch {
            writer.abandon()
            unlink(tmp)
            throw error
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno)); unlink(tmp)
            throw StoreError.cannotOpen(path: path, reason: "cannot move the export into place: \(reason)")
        }
        return summary
    }

    private func makePseudonymizer(_ db: Database) throws -> Pseudonymizer {
        let patients = try String.fetchAll(db, sql: "SELECT id FROM patient UNION SELECT patient_id FROM audit WHERE patient_id IS NOT NULL UNION SELECT patient_id FROM decision")
        var people = try String.fetchAll(db, sql: "SELECT clinician FROM audit WHERE clinician IS NOT NULL UNION SELECT clinician FROM decision")
        // The operating-system users are in the content only.
        let users = try String.fetchAll(db, sql: "SELECT DISTINCT json_extract(content, '$.user') FROM audit WHERE json_extract(content, '$.user') IS NOT NULL")
        people += users
        return Pseudonymizer(key: siteKey, patients: patients, people: people)
    }
}

/// Writes bytes to a file through a 1 MiB buffer.
final class BufferedWriter {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var total = 0
    private var failed: Int32 = 0

    init?(path: String) {
        fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        if fd < 0 { return nil }
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    private func flush() {
        var offset = 0
        while offset < buffer.count && failed == 0 {
            let n = buffer.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno != EINTR { failed = errno } } else { offset += n }
        }
        total += offset
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and closes; the byte count, or an error if any write failed.
    func finish() throws -> Int {
        flush()
        if failed == 0 && fsync(fd) != 0 { failed = errno }
        close(fd)
        if failed != 0 { throw StoreError.cannotOpen(path: "export", reason: String(cString: strerror(failed))) }
        return total
    }

    func abandon() { close(fd) }
}
