import Foundation

/// The text of an audit export, entry by entry, in one of four forms:
///
/// - `jsonl`: a header line, one line per entry with its canonical content and hashes, and an
///   end line with the count, so that `audit verify --file` can check it offline. A plain
///   export keeps the store's chain; a pseudonymized one cannot (its content changed, and the
///   store's hashes of the original content would let anyone confirm a guessed id), so it
///   carries a chain of its own over the exported lines. A complete plain export also carries,
///   after the header, every signed checkpoint of the log (`rounds-audit-jsonl/2`), so that
///   `audit verify --file F --public-key K` recomputes the Merkle tree and checks each signed
///   root with no secret; files of format /1 (no checkpoints) still verify.
/// - `csv`: one row per entry for spreadsheets, with the same hashes.
/// - `fhir`: a FHIR R4 Bundle (type collection) of AuditEvent resources.
/// - `cds-hooks`: the decisions as a CDS Hooks Feedback API request body.
struct AuditFileFormat {
    let options: AuditExportOptions
    let exportedAt: String
    let headSeq: Int?
    let headHash: String?
    let pseudonymizer: Pseudonymizer?
    /// The checkpoints to carry, and the log they belong to.
    let checkpoints: [Checkpoint]
    let log: String?
    private var exportChain = Digest.genesis
    private var first = true

    static let format = "rounds-audit-jsonl/2"
    /// Earlier exports: the same lines, no checkpoints.
    static let formats = ["rounds-audit-jsonl/1", format]

    init(options: AuditExportOptions, exportedAt: String, headSeq: Int?, headHash: String?, pseudonymizer: Pseudonymizer?, checkpoints: [Checkpoint], log: String?) {
        self.options = options; self.exportedAt = exportedAt; self.headSeq = headSeq; self.headHash = headHash; self.pseudonymizer = pseudonymizer
        // The tree covers the whole log's original entries: only a complete plain export can be held against it.
        let carry = options.format == .jsonl && options.complete && pseudonymizer == nil
        self.checkpoints = carry ? checkpoints : []
        self.log = carry ? log : nil
    }

    struct Header: Codable {
        var type = "header"
        var format = AuditFileFormat.format
        var exportedAt: String
        /// `store`: the store's own hashes; `export`: a chain over this file's lines.
        var chain: String
        var pseudonymized: Bool
        var complete: Bool
        var filters: [String: String]
        var storeHeadSeq: Int?
        var storeHeadHash: String?
        /// The log's name (its signing key's id), where checkpoints follow.
        var log: String?
    }

    /// A signed checkpoint, one a line after the header (complete plain exports only).
    struct CheckpointLine: Codable {
        var type = "checkpoint"
        var checkpoint: Checkpoint
    }

    struct Line: Codable {
        var type = "entry"
        var seq: Int
        var content: String
        var contentSha256: String
        var prevHash: String
        var hash: String

        init(seq: Int, content: String, contentSha256: String, prevHash: String, hash: String) {
            self.seq = seq; self.content = content; self.contentSha256 = contentSha256; self.prevHash = prevHash; self.hash = hash
        }

        /// From a parsed line; nil unless it has exactly these fields.
        init?(_ o: [String: FlatJSON.Value]?) {
            guard let o, o.count == 6, o["type"] == .string("entry"), case .int(let seq)? = o["seq"], case .string(let content)? = o["content"],
                  case .string(let ch)? = o["content_sha256"], case .string(let prev)? = o["prev_hash"], case .string(let hash)? = o["hash"] else { return nil }
            self.init(seq: seq, content: content, contentSha256: ch, prevHash: prev, hash: hash)
        }
    }

    struct End: Codable { var type = "end"; var entries: Int; var checkpoints: Int? }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }()

    /// Snake-case keys, for the JSONL file's own lines. Throws rather than writing a placeholder.
    static func json<T: Encodable>(_ v: T) throws -> String { String(decoding: try encoder.encode(v), as: UTF8.self) }

    var filters: [String: String] {
        var f: [String: String] = [:]
        f["since"] = options.since; f["until"] = options.until
        f["patient"] = options.patient.map { pseudonymizer?.id($0) ?? $0 }
        f["clinician"] = options.clinician.map { pseudonymizer?.id($0) ?? $0 }
        return f
    }

    func prologue() throws -> String {
        switch options.format {
        case .jsonl:
            let plain = pseudonymizer == nil
            var text = try Self.json(Header(exportedAt: exportedAt, chain: plain ? "store" : "export", pseudonymized: !plain, complete: options.complete,
                                            filters: filters, storeHeadSeq: plain ? headSeq : nil, storeHeadHash: plain ? headHash : nil, log: log)) + "\n"
            for c in checkpoints { text += try Self.json(CheckpointLine(checkpoint: c)) + "\n" }
            return text
        case .csv: return "seq,recorded,event,action,outcome,clinician,role,user,patient,session,detail,content_sha256,prev_hash,hash\n"
        case .fhir:
            return #"{"resourceType":"Bundle","type":"collection","timestamp":"\#(exportedAt)","entry":["#
        case .cdsHooks: return #"{"feedback":["#
        }
    }

    func epilogue(count: Int) throws -> String {
        switch options.format {
        case .jsonl: return try Self.json(End(entries: count, checkpoints: checkpoints.count)) + "\n"
        case .csv: return ""
        case .fhir, .cdsHooks: return "]}\n"
        }
    }

    /// One entry's text. With pseudonyms the content is rewritten and chained afresh.
    mutating func entry(_ e: AuditEntry, content: String, contentHash: String, prevHash: String, hash: String) throws -> String {
        var entry = e, content = content, contentHash = contentHash, prevHash = prevHash, hash = hash
        if let p = pseudonymizer {
            entry = p.entry(e)
            content = try entry.canonical()
            contentHash = Digest.sha256(content)
            prevHash = exportChain
            hash = Digest.link(previous: prevHash, content: contentHash)!
            exportChain = hash
        }
        switch options.format {
        case .jsonl:
            return try Self.json(Line(seq: entry.seq, content: content, contentSha256: contentHash, prevHash: prevHash, hash: hash)) + "\n"
        case .csv:
            let detail = try CanonicalJSON.string(entry.detail)
            let fields: [String] = [String(entry.seq), entry.recorded, entry.event.rawValue, entry.action, String(entry.outcome), entry.clinician ?? "",
                                    entry.role ?? "", entry.user, entry.patient ?? "", entry.session, detail, contentHash, prevHash, hash]
            return fields.map(Self.csvField).joined(separator: ",") + "\n"
        case .fhir:
            defer { first = false }
            let resource = FHIRAuditEvent(entry, hash: hash)
            let json = try CanonicalJSON.string(resource)
            return (first ? "" : ",") + #"{"fullUrl":"urn:uuid:\#(FHIRAuditEvent.uuid(seq: entry.seq, hash: hash))","resource":"# + json + "}"
        case .cdsHooks: return ""
        }
    }

    /// One decision as CDS Hooks feedback.
    mutating func feedback(_ d: DecisionRecord) throws -> String {
        defer { first = false }
        var d = d
        if let p = pseudonymizer {
            d.patient = p.id(d.patient)!; d.clinician = p.id(d.clinician)!
            d.note = d.note.map(p.scrub)
        }
        let json = try CanonicalJSON.string(CDSHooksFeedback(d))
        return (first ? "" : ",") + json
    }



    /// RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled. A leading
    /// `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet does not run it as a formula.
    static func csvField(_ s: String) -> String {
        var v = s
        if let f = v.first, "=+-@".contains(f), Double(v) == nil { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }
}
