import Foundation
import GRDB

/// A self-contained proof an outside party checks with nothing but it and the site's public
/// key (`rounds audit verify-proof`):
///
/// - `inclusion`: one decision's record, its audit entry, and the RFC 9162 audit path from that
///   entry's leaf to the root a signed checkpoint names. It shows the decision is in the log as
///   recorded, without handing over the log.
/// - `consistency`: an earlier checkpoint (one the party kept), a later one, and the RFC 9162
///   consistency proof that the later tree begins with exactly the earlier tree's entries: no
///   history was rewritten between them.
public struct AuditProof: Codable, Sendable, Equatable {
    public static let format = "rounds-audit-proof/1"
    public enum Kind: String, Codable, Sendable { case inclusion, consistency }

    public var format = AuditProof.format
    public var kind: Kind
    /// The checkpoint the proof ends at (the later one, for consistency).
    public var checkpoint: Checkpoint
    /// Inclusion: the entry's seq (its leaf index), its canonical content, the decision and its record.
    public var leafIndex: Int?
    public var entry: String?
    public var decision: String?
    public var decisionRecord: String?
    /// Consistency: the earlier checkpoint.
    public var earlierCheckpoint: Checkpoint?
    /// The hashes, hex: the audit path (inclusion, leaf upward) or the consistency proof.
    public var path: [String]
    /// For the reader's convenience only: the verifier must use a key it got from the site.
    public var publicKey: String

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }()

    public func json() throws -> String { String(decoding: try Self.encoder.encode(self), as: UTF8.self) + "\n" }

    public static func read(path: String) throws -> AuditProof {
        guard let data = FileManager.default.contents(atPath: path) else { throw StoreError.notFound("cannot read \(path)") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(AuditProof.self, from: data) } catch {
            throw StoreError.invalid("\(path) is not a Rounds audit proof (\(AuditProof.format)): \(Self.describe(error))")
        }
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let k, _): return "it lacks \(k.stringValue)"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "\(c.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type"
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        default: return "\(error)"
        }
    }

    /// What a proof's check found: `problems` empty when it holds.
    public struct Verification: Sendable, Encodable {
        public var kind: Kind
        public var problems: [String] = []
        public var ok: Bool { problems.isEmpty }
        public var treeSize: Int
        public var checkpointTime: String
        public var decision: String?
        public var leafIndex: Int?
        public var earlierSize: Int?
    }

    /// Checks the proof with `key`, the site's public key as the verifier obtained it.
    public func verify(with key: SigningKey.PublicKey) -> Verification {
        var v = Verification(kind: kind, treeSize: checkpoint.size, checkpointTime: checkpoint.time, decision: decision, leafIndex: leafIndex,
                             earlierSize: earlierCheckpoint?.size)
        func fail(_ m: String) -> Verification { v.problems.append(m); return v }
        guard format == Self.format else { return fail("format \(format), expected \(Self.format)") }
        if let p = checkpoint.problem(with: key) { return fail("the checkpoint (size \(checkpoint.size), \(checkpoint.time)): \(p)") }
        guard let root = checkpoint.rootHash else { return fail("the checkpoint's root is not a SHA-256 digest") }
        var hashes: [MerkleHash] = []
        for (i, h) in path.enumerated() {
            guard let m = MerkleHash(hex: h) else { return fail("path[\(i)] is not a SHA-256 digest in hex") }
            hashes.append(m)
        }
        switch kind {
        case .inclusion:
            guard let index = leafIndex, let content = entry, let id = decision, let record = decisionRecord else {
                return fail("an inclusion proof needs leaf_index, entry, decision and decision_record")
            }
            guard let e = try? AuditEntry.parse(content) else { return fail("the entry is not a valid audit entry") }
            if e.seq != index { return fail("the entry says #\(e.seq) but the proof places it at leaf \(index)") }
            if e.event != .decisionRecorded || e.detail["decision"] != id { return fail("the entry does not record decision \(id)") }
            if Digest.sha256(record) != e.detail["decision_sha256"] { return fail("the decision record is not the one the entry holds the SHA-256 of: it was altered") }
            if !Merkle.verifyInclusion(leaf: Merkle.leafHash(content: content), index: index, size: checkpoint.size, path: hashes, root: root) {
                return fail("the audit path does not lead from entry #\(index) to the checkpoint's root: the entry is not in the log the checkpoint signs")
            }
        case .consistency:
            guard let earlier = earlierCheckpoint else { return fail("a consistency proof needs earlier_checkpoint") }
            if let p = earlier.problem(with: key) { return fail("the earlier checkpoint (size \(earlier.size), \(earlier.time)): \(p)") }
            guard let old = earlier.rootHash else { return fail("the earlier checkpoint's root is not a SHA-256 digest") }
            if earlier.size > checkpoint.size { return fail("the earlier checkpoint (size \(earlier.size)) is larger than the later (size \(checkpoint.size)): entries were removed") }
            if !Merkle.verifyConsistency(oldSize: earlier.size, oldRoot: old, newSize: checkpoint.size, newRoot: root, proof: hashes) {
                return fail("the log of size \(checkpoint.size) does not begin with the \(earlier.size) entries the earlier checkpoint signed: history was rewritten")
            }
        }
        return v
    }
}

extension RoundsStore {
    /// An inclusion proof for decision `id` under the latest checkpoint (signing a new one first
    /// if the latest does not yet cover the decision's entry).
    public func proveDecision(_ id: String) throws -> AuditProof {
        try writeImmediate { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT d.body, d.audit_seq, a.content FROM decision d LEFT JOIN audit a ON a.seq = d.audit_seq WHERE d.id = ?", arguments: [id]) else {
                let known = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit WHERE event = 'decision.recorded' AND json_extract(content, '$.detail.decision') = ?", arguments: [id]) ?? 0
                throw StoreError.notFound(known > 0 ? "decision \(id) is in the audit log but missing from the decision table (removed): there is nothing to prove; `audit verify` reports it"
                                                    : "no decision \(id) in this store (`history` lists a patient's decisions)")
            }
            let seq: Int = row["audit_seq"]
            guard let content: String = row["content"] else { throw StoreError.corrupt("decision \(id)'s audit entry #\(seq) is missing (removed): `audit verify` reports it") }
            let body: String = row["body"]
            guard let entry = try? AuditEntry.parse(content), entry.detail["decision"] == id, entry.detail["decision_sha256"] == Digest.sha256(body) else {
                throw StoreError.corrupt("decision \(id) no longer matches its audit entry #\(seq): `audit verify` says how")
            }
            guard let checkpoint = try Self.writeCheckpoint(db, reason: "proof", key: signingKey), checkpoint.size > seq else {
                throw StoreError.corrupt("the log's head is behind decision \(id)'s entry #\(seq)")
            }
            let path = try Merkle.inclusionProof(index: seq, size: checkpoint.size) { try AuditTree.hash(db, level: $0, index: $1) }
            return AuditProof(kind: .inclusion, checkpoint: checkpoint, leafIndex: seq, entry: content, decision: id, decisionRecord: body,
                              earlierCheckpoint: nil, path: path.map(\.hex), publicKey: signingKey.publicKey.pem)
        }
    }

    /// A consistency proof from `earlier` (a checkpoint an outside party kept) to the latest
    /// checkpoint. The store's tree gives the proof; whether it holds is for `AuditProof.verify`.
    public func proveConsistency(from earlier: Checkpoint) throws -> AuditProof {
        try writeImmediate { db in
            guard let checkpoint = try Self.writeCheckpoint(db, reason: "proof", key: signingKey) else { throw StoreError.notFound("the audit log is empty") }
            guard earlier.size <= checkpoint.size else {
                throw StoreError.invalid("the earlier checkpoint signs \(earlier.size) entries but the log now holds \(checkpoint.size): entries were removed from the end")
            }
            let path = try Merkle.consistencyProof(oldSize: earlier.size, newSize: checkpoint.size) { try AuditTree.hash(db, level: $0, index: $1) }
            return AuditProof(kind: .consistency, checkpoint: checkpoint, leafIndex: nil, entry: nil, decision: nil, decisionRecord: nil,
                              earlierCheckpoint: earlier, path: path.map(\.hex), publicKey: signingKey.publicKey.pem)
        }
    }
}
