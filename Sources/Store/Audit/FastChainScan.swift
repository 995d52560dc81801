import Crypto
import Foundation
import GRDB
import GRDBSQLite

/// The fast path of `verifyAudit`: shows that a log is intact without building a value per
/// entry. Rows, and the saved tree nodes for them, are read straight from SQLite in batches
/// (`ScanBatch`); each batch's checks (every content in the canonical layout and equal to its
/// columns, its SHA-256, its chain link, its seq and its link and time against the row
/// before; its Merkle leaf and the tree's nodes within the batch, held against the saved ones)
/// are shared between both cores (`BatchHashing`) while the next batch is read; only the few
/// tree nodes above the batches and the checkpoints are left to check in order. Its checks
/// imply every check `ChainWalker` makes; anything it is not sure of (an escape in a compared
/// field, a value of an unexpected type, content not in the canonical layout) makes it give
/// up, and the caller walks the log the slow way, which names the problem. So it never decides
/// what is wrong, only that nothing is.
struct FastChainScan {
    struct Result { var entries: Int; var lastSeq: Int?; var lastHash: String }

    /// A power of two, so that every batch but the last is a perfect subtree of the log's tree.
    static let batchRows = 4096

    /// Nil when anything needs the slow path; otherwise the log's extent, with `tree` fed every leaf.
    ///
    /// A pipeline of two batches: while one batch is hashed on another thread, this thread reads
    /// the next from SQLite (its saved nodes too), then helps hash what is left of the first;
    /// then the tree nodes above that batch and the checkpoints are checked in order.
    static func run(_ db: Database, tree: inout TreeChecker) throws -> Result? {
        let rows = try db.makeStatement(sql: "SELECT seq, content, recorded_at, event, clinician, patient_id, content_hash, prev_hash, hash FROM audit ORDER BY seq")
        let nodes = try db.makeStatement(sql: "SELECT pos, hash FROM audit_tree ORDER BY pos")
        let rs = rows.sqliteStatement, ns = nodes.sqliteStatement
        defer { sqlite3_reset(rs); sqlite3_reset(ns) }
        var current = ScanBatch(), next = ScanBatch()
        guard var done = current.read(rs, ns, rows: batchRows) else { return nil }
        while current.count > 0 {
            let work = BatchHashing(current)
            let group = DispatchGroup()
            DispatchQueue.global().async(group: group) { work.work() }
            next.follow(current)
            var readFailed = false
            if done { next.clear() } else if let d = next.read(rs, ns, rows: batchRows) { done = d } else { readFailed = true }
            work.work()
            group.wait()
            guard !readFailed, work.ok, let batchTree = work.tree else { return nil }
            // The saved nodes past the batch's own are those above it, in the order they complete.
            var above = batchTree.nodes.count
            let treeOK = tree.add(batch: batchTree) { node in
                guard above < current.saved.count, current.saved[above] == node else { return false }
                above += 1
                return true
            }
            guard treeOK, above == current.saved.count else { return nil }
            swap(&current, &next)
        }
        // No saved node beyond the log's.
        guard sqlite3_step(ns) == SQLITE_DONE else { return nil }
        let entries = current.start
        return Result(entries: entries, lastSeq: entries == 0 ? nil : entries - 1, lastHash: String(decoding: current.previousHash, as: UTF8.self))
    }

    /// The checks of one row: the content in the canonical layout, its seq (its place in the
    /// log) and fields equal to the columns, its SHA-256 and its link; that it follows the row
    /// before (prev_hash that row's hash, recorded_at not before its); and its leaf hash.
    static func checkRow(_ buf: UnsafeBufferPointer<UInt8>, _ batch: ScanBatch, _ r: Int) -> (Bool, MerkleHash) {
        let fail = (false, Merkle.emptyRoot)
        let b = buf.baseAddress!
        let content = batch.field(r, 0)
        let base = b + Int(content.0)
        let text = UnsafeBufferPointer(start: base, count: Int(content.1))
        let seq = batch.seqs[r]
        guard seq == batch.start + r, let scan = CanonicalScan(text), scan.seq == seq else { return fail }
        func same(_ inContent: (Int, Int)?, _ column: Int) -> Bool {
            let f = batch.field(r, column)
            guard let (s, c) = inContent else { return f.1 == -1 }
            return Int(f.1) == c && memcmp(base + s, b + Int(f.0), c) == 0
        }
        guard same(scan.recorded, 1), same(scan.event, 2), same(scan.clinician, 3), same(scan.patient, 4),
              AuditEvent(rawValue: String(decoding: UnsafeBufferPointer(start: base + scan.event.0, count: scan.event.1), as: UTF8.self)) != nil else {
            return fail
        }
        // The row before: prev_hash is its hash column, and it was not recorded later.
        let ch = batch.field(r, 5), prev = batch.field(r, 6), hash = batch.field(r, 7), recorded = batch.field(r, 1)
        guard prev.1 == 64, hash.1 == 64, ch.1 == 64 else { return fail }
        let rec = UnsafeBufferPointer(start: b + Int(recorded.0), count: Int(recorded.1))
        if r == 0 {
            guard batch.previousHash.withUnsafeBufferPointer({ $0.count == 64 && memcmp(b + Int(prev.0), $0.baseAddress!, 64) == 0 }),
                  !batch.previousRecorded.withUnsafeBufferPointer({ rec.lexicographicallyPrecedes($0) }) else { return fail }
        } else {
            let before = batch.field(r - 1, 7), beforeRecorded = batch.field(r - 1, 1)
            guard memcmp(b + Int(prev.0), b + Int(before.0), 64) == 0,
                  !rec.lexicographicallyPrecedes(UnsafeBufferPointer(start: b + Int(beforeRecorded.0), count: Int(beforeRecorded.1))) else { return fail }
        }
        // content_hash as lower-case hex, then the link over the two raw digests.
        let raw = UnsafeRawBufferPointer(text)
        let digest = SHA256.hash(data: raw)
        guard hexEqual(digest, b + Int(ch.0)) else { return fail }
        let linked: Bool = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { pair in
            guard rawHex(b + Int(prev.0), into: pair.baseAddress!) else { return false }
            digest.withUnsafeBytes { d in for i in 0..<32 { pair[32 + i] = d[i] } }
            var link = SHA256()
            link.update(bufferPointer: UnsafeRawBufferPointer(pair))
            return hexEqual(link.finalize(), b + Int(hash.0))
        }
        guard linked else { return fail }
        var h = SHA256()
        withUnsafeBytes(of: UInt8(0)) { h.update(bufferPointer: $0) }
        h.update(bufferPointer: raw)
        return (true, MerkleHash(h.finalize()))
    }

    /// A nibble's lower-case hex digit.
    @inline(__always) static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 48 + v : 87 + v }

    static func hexEqual(_ d: SHA256Digest, _ p: UnsafePointer<UInt8>) -> Bool {
        d.withUnsafeBytes { raw in
            for i in 0..<32 where p[2 * i] != hexDigit(raw[i] >> 4) || p[2 * i + 1] != hexDigit(raw[i] & 15) { return false }
            return true
        }
    }

    /// 64 lower-case hex digits at `p` as 32 bytes at `out`; false for anything else.
    static func rawHex(_ p: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Bool {
        func v(_ c: UInt8) -> UInt8? { switch c { case 48...57: return c - 48; case 97...102: return c - 87; default: return nil } }
        for i in 0..<32 {
            guard let a = v(p[2 * i]), let b = v(p[2 * i + 1]) else { return false }
            out[i] = a << 4 | b
        }
        return true
    }
}
