import Foundation
import GRDB

/// What `audit verify` found. `problems` is empty when the log is intact; otherwise its first
/// element names the first entry that was altered, deleted, inserted or reordered.
public struct AuditVerification: Sendable, Encodable {
    public var entries = 0
    public var decisions = 0
    /// The last entry checked: its seq and hash.
    public var headSeq: Int?
    public var headHash: String?
    /// The head's MAC matched the site key (store), or the file's checkpoint was complete (file).
    public var headAuthenticated = false
    /// Signed checkpoints whose signature and root were checked against the entries.
    public var checkpoints = 0
    /// Whether the checkpoints' signatures were checked (a public key was at hand).
    public var signaturesChecked = false
    /// The Merkle root over every entry read (RFC 9162), hex.
    public var treeRoot: String?
    /// The newest checkpoint among those checked.
    public var latestCheckpoint: Checkpoint?
    public var problems: [AuditProblem] = []
    public var notes: [String] = []
    public var ok: Bool { problems.isEmpty }
    public init() {}
}

public struct AuditProblem: Sendable, Encodable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Encodable { case altered, deleted, inserted, reordered, head, decision, format, tree, checkpoint }
    /// The entry it concerns, where there is one.
    public var seq: Int?
    public var kind: Kind
    public var message: String
    public var description: String { (seq.map { "entry #\($0): " } ?? "") + "\(kind.rawValue): \(message)" }
}

/// Walks a chain in order, one entry at a time, and stops at the first break; used for the
/// store and for exported files alike.
struct ChainWalker {
    /// Whether every entry must follow the previous one (a whole log) or only consecutive
    /// seqs are linked (a filtered export).
    let contiguous: Bool
    private(set) var count = 0
    private(set) var lastSeq: Int?
    private(set) var lastHash = Digest.genesis
    private var lastRecorded = ""
    private(set) var problem: AuditProblem?

    init(contiguous: Bool) { self.contiguous = contiguous }

    /// Checks one entry: `content` as stored, its claimed hashes, and the entry's columns as
    /// stored beside the content (nil where there are none). Returns false once broken.
    mutating func accept(seq: Int, content: String, contentHash: String, prevHash: String, hash: String,
                         columns: [String: String?] = [:]) -> Bool {
        guard problem == nil else { return false }
        func fail(_ s: Int?, _ k: AuditProblem.Kind, _ m: String) -> Bool { problem = AuditProblem(seq: s, kind: k, message: m); return false }
        if let last = lastSeq {
            if seq <= last { return fail(seq, .reordered, "out of order: it comes after #\(last)") }
            if contiguous && seq > last + 1 { return fail(last + 1, .deleted, "missing: the log goes from #\(last) to #\(seq)") }
        } else if contiguous && seq != 0 {
            return fail(0, .deleted, "missing: the log starts at #\(seq)")
        }
        guard let entry = try? AuditEntry.parse(content) else { return fail(seq, .altered, "its content is not a valid audit entry") }
        if entry.seq != seq { return fail(seq, .reordered, "it is stored at #\(seq) but its content says #\(entry.seq): moved or swapped") }
        if Digest.sha256(content) != contentHash { return fail(seq, .altered, "its content no longer matches its SHA-256") }
        let truth: [String: String?] = ["recorded_at": entry.recorded, "event": entry.event.rawValue, "clinician": entry.clinician, "patient_id": entry.patient]
        for (column, value) in columns.sorted(by: { $0.key < $1.key }) where truth[column] != nil && truth[column]! != value {
            return fail(seq, .altered, "its \(column) column says \(value ?? "NULL") but its hashed content says \(truth[column]! ?? "NULL")")
        }
        let linked = lastSeq.map { seq == $0 + 1 } ?? (seq == 0)
        if linked && prevHash != lastHash {
            if seq == 0 { return fail(0, .altered, "the first entry does not start from the genesis hash") }
            return fail(seq - 1, .altered, "its hash no longer matches what #\(seq) recorded as its predecessor: #\(seq - 1) was altered or replaced, or entries were inserted or removed between them")
        }
        guard Digest.link(previous: prevHash, content: contentHash) == hash else { return fail(seq, .altered, "its chain hash is not SHA-256(previous ‖ content)") }
        if entry.recorded < lastRecorded { return fail(seq, .reordered, "recorded at \(entry.recorded), before #\(seq - 1) (\(lastRecorded))") }
        lastSeq = seq; lastHash = hash; lastRecorded = entry.recorded; count += 1
        return true
    }
}

extension RoundsStore {
    /// Walks the whole chain in the store, checks the head (and its MAC under the site key),
    /// recomputes the Merkle tree (every saved node, every signed checkpoint's root and
    /// signature, and an RFC 9162 consistency proof between each checkpoint and the next), and
    /// that every decision has exactly one intact audit entry. Streams: memory stays flat.
    /// `fastPath` false walks every entry the slow way (the benchmark's before-and-after, and
    /// the tests that hold both paths to one answer).
    public func verifyAudit(fastPath: Bool = true) throws -> AuditVerification {
        try pool.read { db in
            var v = AuditVerification()
            let checkpoints = try Self.checkpoints(db)
            func freshTree() -> TreeChecker { TreeChecker(checkpoints: checkpoints.map { ($0, false) }, key: signingKey.publicKey) }
            var tree = freshTree()
            v.signaturesChecked = true
            var treeProblem: AuditProblem?
            let entries: Int, lastSeq: Int?, lastHash: String
            if fastPath, let fast = try FastChainScan.run(db, tree: &tree) {
                (entries, lastSeq, lastHash) = (fast.entries, fast.lastSeq, fast.lastHash)
            } else {
                // Something is off: walk entry by entry to name it.
                tree = freshTree()
                var walker = ChainWalker(contiguous: true)
                var position = 0
                let nodes = try Row.fetchCursor(db, sql: "SELECT pos, hash FROM audit_tree ORDER BY pos")
                let rows = try Row.fetchCursor(db, sql: "SELECT seq, recorded_at, event, clinician, patient_id, content, content_hash, prev_hash, hash FROM audit ORDER BY seq")
                while let r = try rows.next() {
                    let content: String = r["content"]
                    let ok = walker.accept(seq: r["seq"], content: content, contentHash: r["content_hash"], prevHash: r["prev_hash"], hash: r["hash"],
                                           columns: ["recorded_at": r["recorded_at"], "event": r["event"], "clinician": r["clinician"], "patient_id": r["patient_id"]])
                    if !ok { break }
                    // A tree problem is reported only if the chain and head hold: they name the entry better.
                    guard treeProblem == nil && tree.problem == nil else { continue }
                    let seq: Int = r["seq"]
                    _ = tree.add(content: content, completed: { node in
                        guard treeProblem == nil else { return false }
                        let saved = try? nodes.next()
                        if let saved, saved["pos"] == position, MerkleHash(bytes: saved["hash"] as Data? ?? Data()) == node { position += 1; return true }
                        treeProblem = AuditProblem(seq: seq, kind: .tree, message: "the saved Merkle tree's node \(position) does not match the entries (altered or missing): proofs would not verify")
                        return false
                    })
                }
                (entries, lastSeq, lastHash) = (walker.count, walker.lastSeq, walker.lastHash)
                v.entries = entries
                v.headSeq = lastSeq
                v.headHash = lastSeq == nil ? nil : lastHash
                if let p = walker.problem { v.problems.append(p); return v }
                if treeProblem == nil, tree.problem == nil, let extra = try nodes.next() {
                    treeProblem = AuditProblem(seq: nil, kind: .tree, message: "the saved Merkle tree has node \(extra["pos"] as Int) beyond the log's \(entries) entries")
                }
            }
            v.entries = entries
            v.headSeq = lastSeq
            v.headHash = lastSeq == nil ? nil : lastHash
            // The head: catches entries removed from, or added to, the end.
            let head = try Row.fetchOne(db, sql: "SELECT seq, hash, mac FROM audit_head WHERE id = 1")
            if let head {
                let seq: Int = head["seq"], hash: String = head["hash"], mac: String = head["mac"]
                if let last = lastSeq, seq > last {
                    v.problems.append(AuditProblem(seq: last + 1, kind: .deleted, message: "missing: the head says the log ends at #\(seq), but it ends at #\(last)"))
                } else if lastSeq == nil {
                    v.problems.append(AuditProblem(seq: 0, kind: .deleted, message: "missing: the head says the log ends at #\(seq), but it is empty"))
                } else if let last = lastSeq, seq < last {
                    v.problems.append(AuditProblem(seq: seq + 1, kind: .inserted, message: "not appended by Rounds: the head says the log ends at #\(seq)"))
                } else if hash != lastHash {
                    v.problems.append(AuditProblem(seq: seq, kind: .altered, message: "it is not the entry the head recorded"))
                } else if mac != siteKey.mac(Self.headMessage(seq: seq, hash: hash)) {
                    v.problems.append(AuditProblem(seq: nil, kind: .head, message: "the head's MAC does not match the site key \(siteKey.path): the chain was rewritten, or the key replaced"))
                } else { v.headAuthenticated = true }
            } else if let last = lastSeq {
                v.problems.append(AuditProblem(seq: nil, kind: .head, message: "the head record is missing, though the log has entries up to #\(last)"))
            }
            if !v.ok { return v }
            if let p = treeProblem ?? tree.problem { v.problems.append(p); return v }
            tree.finish()
            if let p = tree.problem { v.problems.append(p); return v }
            v.treeRoot = tree.accumulator.root.hex
            v.checkpoints = tree.matched
            v.latestCheckpoint = checkpoints.last
            try checkConsistency(db, checkpoints, into: &v)
            if !v.ok { return v }
            try checkDecisions(db, into: &v)
            return v
        }
    }

    /// Each checkpoint extends the one before it: the RFC 9162 consistency proof the saved tree
    /// gives, checked as an outside verifier would.
    private func checkConsistency(_ db: Database, _ checkpoints: [Checkpoint], into v: inout AuditVerification) throws {
        var cache: [Int: MerkleHash] = [:]
        func perfect(_ level: Int, _ index: Int) throws -> MerkleHash {
            let pos = AuditTree.position(level: level, index: index)
            if let h = cache[pos] { return h }
            let h = try AuditTree.hash(db, level: level, index: index)
            cache[pos] = h
            return h
        }
        for (a, b) in zip(checkpoints, checkpoints.dropFirst()) {
            guard let old = a.rootHash, let new = b.rootHash else { continue }
            let proof = try Merkle.consistencyProof(oldSize: a.size, newSize: b.size, perfect: perfect)
            if !Merkle.verifyConsistency(oldSize: a.size, oldRoot: old, newSize: b.size, newRoot: new, proof: proof) {
                v.problems.append(AuditProblem(seq: nil, kind: .checkpoint, message: "the checkpoint of \(b.time) (size \(b.size)) does not extend the one of \(a.time) (size \(a.size))"))
                return
            }
        }
    }

    /// Every `decision.recorded` entry has its decision, with the body it hashed; every decision
    /// row has its entry; the listing columns agree with the body.
    private func checkDecisions(_ db: Database, into v: inout AuditVerification) throws {
        let entries = try Row.fetchCursor(db, sql: """
            SELECT a.seq, a.content, d.id, d.body, d.clinician, d.patient_id, d.outcome, d.recommended, d.chosen, d.reward, d.model_sha256, d.recorded_at
            FROM audit a LEFT JOIN decision d ON d.audit_seq = a.seq WHERE a.event = 'decision.recorded' ORDER BY a.seq
            """)
        while let r = try entries.next() {
            let seq: Int = r["seq"]
            guard let entry = try? AuditEntry.parse(r["content"]), let id = entry.detail["decision"] else {
                v.problems.append(AuditProblem(seq: seq, kind: .decision, message: "the decision entry names no decision")); return
            }
            guard let body: String = r["body"] else {
                v.problems.append(AuditProblem(seq: seq, kind: .decision, message: "decision \(id) is missing from the decision table (deleted)")); return
            }
            if r["id"] != id || Digest.sha256(body) != entry.detail["decision_sha256"] {
                v.problems.append(AuditProblem(seq: seq, kind: .decision, message: "decision \(id) was altered: its record no longer matches the SHA-256 in the audit log")); return
            }
            guard let d = try? Self.decodeDecision(body) else {
                v.problems.append(AuditProblem(seq: seq, kind: .decision, message: "decision \(id) cannot be read")); return
            }
            let columns: [(String, String, String)] = [("clinician", r["clinician"], d.clinician), ("patient_id", r["patient_id"], d.patient),
                                                       ("outcome", r["outcome"], d.outcome.rawValue), ("recommended", r["recommended"], d.recommended),
                                                       ("chosen", r["chosen"], d.chosen), ("model_sha256", r["model_sha256"], d.modelSha256),
                                                       ("recorded_at", r["recorded_at"], d.recordedAt), ("reward", String(r["reward"] as Double), String(d.reward))]
            if let (c, stored, truth) = columns.first(where: { $0.1 != $0.2 }) {
                v.problems.append(AuditProblem(seq: seq, kind: .decision, message: "decision \(id)'s \(c) column says \(stored) but its record says \(truth)")); return
            }
            v.decisions += 1
        }
        let orphans = try Row.fetchAll(db, sql: """
            SELECT d.id, d.audit_seq FROM decision d LEFT JOIN audit a ON a.seq = d.audit_seq
            WHERE a.seq IS NULL OR a.event != 'decision.recorded' ORDER BY d.audit_seq LIMIT 1
            """)
        if let o = orphans.first {
            v.problems.append(AuditProblem(seq: o["audit_seq"], kind: .decision, message: "decision \(o["id"] as String) has no decision entry in the audit log (inserted outside Rounds)"))
        }
    }
}
