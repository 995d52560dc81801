import ArgumentParser
import Foundation
import Patients
import Store

/// `audit`: the tamper-evident log of who saw and decided what.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit log: show recent entries, verify it, export it (JSONL, CSV, FHIR AuditEvent, CDS Hooks feedback), prove a decision is in it.",
        subcommands: [Show.self, Verify.self, Export.self, Key.self, CheckpointNow.self, Prove.self, VerifyProof.self],
        defaultSubcommand: Show.self)

    /// `audit show`: the latest entries.
    struct Show: SessionCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "The latest audit entries, newest last.")
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("How many entries.", valueName: "n")) var last = 20
        @Option(help: ArgumentHelp("Only entries about this patient.", valueName: "id")) var patient: String?
        @Flag(help: "Print as JSON.") var json = false

        func run(in session: Session) throws {
            guard last > 0 else { throw ValidationError("--last must be at least 1") }
            let entries = try session.store.auditEntries(last: last, patient: patient)
            if json { try session.out.json(entries); return }
            let out = session.out
            guard !entries.isEmpty else { out.print("The audit log is empty."); return }
            let rows = entries.map { e -> [String] in
                ["#\(e.seq)", String(e.recorded.prefix(19)).replacingOccurrences(of: "T", with: " "), e.event.rawValue, e.clinician ?? "-", e.patient ?? "",
                 e.detail.sorted { $0.key < $1.key }.filter { !$0.key.hasSuffix("sha256") }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")]
            }
            out.print(Table(headers: ["entry", "recorded (UTC)", "event", "clinician", "patient", "detail"], rows: rows, rightAligned: [0]).render(width: out.width))
        }
    }

    /// `audit verify [--file F]`.
    struct Verify: SessionCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Walk the hash chain and the Merkle tree and name the first entry that was altered, deleted, inserted or reordered.",
            discussion: """
                Without --file it checks the store: every entry's content against its SHA-256, each link to the entry before, the head \
                (and its MAC under the site key), the Merkle tree (RFC 9162) against every signed checkpoint (signature, root, and a \
                consistency proof from each to the next), and that every decision has its intact entry. With --file it checks an \
                exported JSONL file offline; with --public-key (the site's, from `audit key`) also the checkpoints the export carries, \
                with no secret; with --checkpoint, that the export begins with the log a checkpoint kept from before signed. Exits \
                with status 1 when the log is not intact.
                """)
        static var needsPatients: Bool { false }
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Verify an exported JSONL file instead of the store.", valueName: "file")) var file: String?
        @Option(help: ArgumentHelp("With --file: the site's public key (PEM), to check the export's signed checkpoints.", valueName: "file")) var publicKey: String?
        @Option(help: ArgumentHelp("With --file: a checkpoint kept from before (JSON); the export must begin with the log it signed.", valueName: "file")) var checkpoint: String?
        @Flag(help: "Print as JSON.") var json = false

        func run(in session: Session) throws {
            let start = Date()
            let v: AuditVerification
            if file == nil && (publicKey != nil || checkpoint != nil) {
                throw ValidationError("--public-key and --checkpoint check an exported file: give --file too (the store is checked with its own key)")
            }
            do {
                if let file {
                    let key = try publicKey.map { try SigningKey.PublicKey(file: $0) }
                    let kept = try checkpoint.map { path -> Checkpoint in
                        guard let data = FileManager.default.contents(atPath: path) else { throw StoreError.notFound("cannot read \(path)") }
                        return try Checkpoint.read(json: data, source: path)
                    }
                    v = try AuditFileVerifier.verify(path: file, publicKey: key, trusted: kept)
                } else { v = try session.store.verifyAudit() }
            } catch let e as StoreError {
                throw ValidationError(e.description)
            }
            let seconds = Date().timeIntervalSince(start)
            try? session.audit(.auditVerified, action: "E", outcome: v.ok ? 0 : 8,
                               detail: ["target": file == nil ? "store" : "file", "entries": String(v.entries), "ok": String(v.ok)]
                                   .merging(file.map { ["file": $0] } ?? [:]) { a, _ in a })
            if json { try session.out.json(v) } else {
                let out = session.out
                let what = file ?? "the store's audit log"
                if v.ok {
                    out.print("✓ \(what): \(v.entries) entries intact" + (file == nil ? ", \(v.decisions) decision\(v.decisions == 1 ? "" : "s") matching \(v.decisions == 1 ? "its entry" : "their entries")" : "")
                              + (v.headHash.map { "; head #\(v.headSeq!) \($0.prefix(16))…" } ?? "")
                              + (file == nil ? (v.headAuthenticated ? "; head MAC verified with the site key." : ".") : "."))
                    if let root = v.treeRoot {
                        let signed = v.signaturesChecked ? "signature and root" : "root (signature not checked)"
                        out.print("✓ Merkle root \(root.prefix(16))… over \(v.entries) entries; \(v.checkpoints) signed checkpoint\(v.checkpoints == 1 ? "" : "s") (\(signed)) match"
                                  + (v.checkpoints == 1 ? "es" : "") + (file == nil && v.checkpoints > 1 ? ", each extending the one before (RFC 9162 consistency proofs)." : ".")
                                  + (checkpoint != nil ? " Your kept checkpoint is where this log begins." : ""))
                    }
                    for n in v.notes { out.print(out.dim(n)) }
                    out.print(out.dim(String(format: "Checked in %.2f s.", seconds)))
                } else {
                    out.print(out.red(out.bold("✖ \(what) is NOT intact.")) + " \(v.entries) entries verified before the first problem.")
                    for p in v.problems { out.print(out.red("  " + p.description)) }
                }
            }
            if !v.ok { throw ExitCode(1) }
        }
    }

    /// `audit export`.
    struct Export: SessionCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Export audit entries to a file, streaming.",
            discussion: """
                Formats: jsonl (keeps the hash chain; `audit verify --file` checks it), csv (for spreadsheets), fhir (a FHIR R4 \
                Bundle of AuditEvent resources), cds-hooks (the decisions as a CDS Hooks Feedback API body). --pseudonymize replaces \
                patient, clinician and user ids (in fields and in free text) by HMAC-SHA256 pseudonyms under the site key beside the store.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("jsonl, csv, fhir or cds-hooks.", valueName: "format")) var format: String = "jsonl"
        @Option(help: ArgumentHelp("From this day or instant (UTC), inclusive.", valueName: "time")) var since: String?
        @Option(help: ArgumentHelp("Up to this day or instant (UTC), inclusive.", valueName: "time")) var until: String?
        @Option(help: ArgumentHelp("Only entries about this patient.", valueName: "id")) var patient: String?
        @Option(name: .customLong("by"), help: ArgumentHelp("Only entries by this clinician.", valueName: "id")) var byClinician: String?
        @Flag(help: "Replace patient, clinician and user ids by keyed pseudonyms.") var pseudonymize = false
        @Option(help: ArgumentHelp("The file to write.", valueName: "file")) var out: String
        @Flag(help: "Print the summary as JSON.") var json = false

        func run(in session: Session) throws {
            guard let f = AuditExportOptions.Format(rawValue: format) else {
                let names = AuditExportOptions.Format.allCases.map(\.rawValue)
                throw ValidationError("unknown format '\(format)'." + (Suggest.nearest(format, in: names).map { " Did you mean '\($0)'?" } ?? "") + " Formats: \(names.joined(separator: ", "))")
            }
            func bound(_ s: String?, end: Bool, _ name: String) throws -> String? {
                guard let s else { return nil }
                guard let b = AuditExportOptions.bound(s, end: end) else { throw ValidationError("--\(name) '\(s)': give a day (2026-11-23) or a UTC instant (2026-11-23T14:05:00Z)") }
                return b
            }
            let options = AuditExportOptions(format: f, since: try bound(since, end: false, "since"), until: try bound(until, end: true, "until"),
                                             patient: patient, clinician: byClinician, pseudonymize: pseudonymize)
            if let s = options.since, let u = options.until, s > u { throw ValidationError("--since \(since!) is after --until \(until!)") }
            let now = ClinicalCalendar.instantString(Date(), milliseconds: true)
            let start = Date()
            let summary: AuditExportSummary
            do { summary = try session.store.exportAudit(options, to: out, exportedAt: now) } catch let e as StoreError { throw ValidationError(e.description) }
            let seconds = Date().timeIntervalSince(start)
            var detail = ["format": f.rawValue, "entries": String(summary.entries), "pseudonymized": String(pseudonymize), "out": out]
            detail["since"] = options.since; detail["until"] = options.until; detail["patient"] = patient; detail["by"] = byClinician
            try session.audit(.auditExported, action: "R", patient: nil, detail: detail)
            if json { try session.out.json(summary); return }
            let what = f == .cdsHooks ? "\(summary.decisions) decisions as CDS Hooks feedback" : "\(summary.entries) entries (\(summary.decisions) decisions)"
            session.out.print("Exported \(what) to \(out) as \(f.rawValue)" + (pseudonymize ? ", pseudonymized" : "")
                              + String(format: ": %.1f MB in %.2f s.", Double(summary.bytes) / 1e6, seconds))
            if f == .jsonl { session.out.print(session.out.dim("`rounds audit verify --file \(out)` checks it offline.")) }
        }
    }
}
