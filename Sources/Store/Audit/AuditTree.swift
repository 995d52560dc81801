import Foundation
import GRDB
import Patients

/// The audit log's Merkle tree, saved beside the entries so that a proof reads a few dozen
/// hashes instead of rehashing the log. `audit_tree` holds every complete node, leaves
/// included, keyed by its place in post-order (a node right after its two children), which is
/// also the order appending produces them in: the k-th leaf and the nodes it completes go at
/// the end, so an append only inserts, and a verifier reads the table front to back.
enum AuditTree {
    /// Post-order position of the perfect subtree of 2^level leaves starting at leaf index · 2^level:
    /// 2s − popcount(s) nodes complete before leaf s, then the subtree's 2^(level+1) − 1.
    static func position(level: Int, index: Int) -> Int {
        let s = index << level
        return 2 * s - s.nonzeroBitCount + (1 << (level + 1)) - 2
    }

    /// Saves the leaf for entry `seq` (the log's seq-th leaf, from 0) and the nodes it completes.
    static func appendLeaf(_ db: Database, seq: Int, content: String) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO audit_tree (pos, hash) VALUES (?, ?)")
        var node = Merkle.leafHash(content: content)
        var pos = position(level: 0, index: seq)
        try insert.execute(arguments: [pos, Data(node.bytes)])
        let size = seq + 1
        var level = 0
        while (size >> level) & 1 == 0 {
            let left = try hash(db, level: level, index: (size >> level) - 2)
            node = Merkle.nodeHash(left, node)
            level += 1; pos += 1
            try insert.execute(arguments: [pos, Data(node.bytes)])
        }
    }

    static func hash(_ db: Database, level: Int, index: Int) throws -> MerkleHash {
        let pos = position(level: level, index: index)
        guard let data = try Data.fetchOne(db.cachedStatement(sql: "SELECT hash FROM audit_tree WHERE pos = ?"), arguments: [pos]),
              let h = MerkleHash(bytes: data) else {
            throw StoreError.corrupt("the audit log's Merkle tree lacks node \(pos) (level \(level), index \(index)): `audit verify` checks it")
        }
        return h
    }

    /// MTH of the first `size` entries, from the saved nodes.
    static func root(_ db: Database, size: Int) throws -> MerkleHash {
        size == 0 ? Merkle.emptyRoot : try Merkle.subtreeHash(start: 0, size: size) { try hash(db, level: $0, index: $1) }
    }

    /// Rebuilds the tree from the entries' content (the migration that adds it to an older
    /// store; tests that rewrite a log as an attacker with the keys would).
    static func rebuild(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM audit_tree")
        let insert = try db.cachedStatement(sql: "INSERT INTO audit_tree (pos, hash) VALUES (?, ?)")
        var acc = Merkle.Accumulator()
        var pos = 0
        let rows = try Row.fetchCursor(db, sql: "SELECT seq, content FROM audit ORDER BY seq")
        var failure: Error?
        while let r = try rows.next() {
            let seq: Int = r["seq"]
            guard seq == acc.size else { throw StoreError.corrupt("the audit log skips from #\(acc.size - 1) to #\(seq): `audit verify` says more") }
            let leaf = Merkle.leafHash(content: r["content"])
            try insert.execute(arguments: [pos, Data(leaf.bytes)]); pos += 1
            acc.append(leaf) { _, _, node in
                guard failure == nil else { return }
                do { try insert.execute(arguments: [pos, Data(node.bytes)]); pos += 1 } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }
}

extension RoundsStore {
    /// Signs a checkpoint of the log as it is now and keeps it in the store, unless the latest
    /// one already covers every entry (then that one is returned). Runs in one IMMEDIATE
    /// transaction, so the size and root are of one state of the log.
    @discardableResult
    public func writeCheckpoint(reason: String) throws -> Checkpoint? {
        try writeImmediate { db in try Self.writeCheckpoint(db, reason: reason, key: signingKey) }
    }

    static func writeCheckpoint(_ db: Database, reason: String, key: SigningKey) throws -> Checkpoint? {
        let size = try Int.fetchOne(db, sql: "SELECT seq + 1 FROM audit_head WHERE id = 1") ?? 0
        if let last = try latestCheckpoint(db), last.size >= size { return last }
        guard size > 0 else { return nil }
        let c = try Checkpoint.sign(size: size, root: AuditTree.root(db, size: size), time: ClinicalCalendar.instantString(Date(), milliseconds: true), key: key)
        try db.execute(sql: "INSERT INTO audit_checkpoint (size, root, time, log, signature, reason) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [c.size, c.root, c.time, c.log, c.signature, reason])
        return c
    }

    static func latestCheckpoint(_ db: Database) throws -> Checkpoint? {
        try Row.fetchOne(db, sql: "SELECT size, root, time, log, signature FROM audit_checkpoint ORDER BY size DESC, id DESC LIMIT 1").map(checkpoint)
    }

    static func checkpoints(_ db: Database) throws -> [Checkpoint] {
        try Row.fetchAll(db, sql: "SELECT size, root, time, log, signature FROM audit_checkpoint ORDER BY size, id").map(checkpoint)
    }

    static func checkpoint(_ r: Row) -> Checkpoint {
        Checkpoint(log: r["log"], size: r["size"], root: r["root"], time: r["time"], signature: r["signature"])
    }

    /// Every checkpoint in the store, smallest first.
    public func checkpoints() throws -> [Checkpoint] { try pool.read { try Self.checkpoints($0) } }
}
