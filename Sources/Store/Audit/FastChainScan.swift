import Crypto
import Foundation
import GRDB
import GRDBSQLite

/// The fast path of `verifyAudit`: shows that a log is intact without building a value per
/// entry. Rows are read straight from SQLite in batches; each batch's hashing (every content's
/// SHA-256, its chain link, its Merkle leaf) and the check of its content against its columns
/// run on all cores; the links between entries, the tree and the checkpoints are then checked
/// in order. Its checks imply every check `ChainWalker` makes; anything it is not sure of (an
/// escape in a compared field, a value of an unexpected type, content not in the canonical
/// layout) makes it give up, and the caller walks the log the slow way, which names the
/// problem. So it never decides what is wrong, only that nothing is.
struct FastChainScan {
    struct Result { var entries: Int; var lastSeq: Int?; var lastHash: String }

    static let batchRows = 4096

    /// One batch of rows, their bytes side by side in one buffer.
    final class Batch: @unchecked Sendable {
        var bytes: [UInt8] = []
        /// Per row: seq, and (start, count) of content, recorded_at, event, clinician, patient_id
        /// (count -1 for NULL), content_hash, prev_hash, hash.
        var seqs: [Int] = []
        var fields: [(Int32, Int32)] = []
        static let perRow = 8
        var count: Int { seqs.count }
        func reset() { bytes.removeAll(keepingCapacity: true); seqs.removeAll(keepingCapacity: true); fields.removeAll(keepingCapacity: true) }
        func field(_ row: Int, _ k: Int) -> (Int32, Int32) { fields[row * Self.perRow + k] }
    }

    /// A batch's per-row results: whether its own checks held, and its Merkle leaf.
    final class Hashed: @unchecked Sendable {
        var leaves: [MerkleHash] = []
        var oks: [Bool] = []
    }

    /// Reads up to `batchRows` rows into `batch` (SQLite is one thread's work). Nil when a row
    /// is not what the fast path expects; otherwise whether the log is exhausted.
    static func read(_ rs: OpaquePointer, into batch: Batch) -> Bool? {
        batch.reset()
        while batch.count < batchRows {
            let rc = sqlite3_step(rs)
            if rc == SQLITE_DONE { return true }
            guard rc == SQLITE_ROW else { return nil }
            guard sqlite3_column_type(rs, 0) == SQLITE_INTEGER else { return nil }
            batch.seqs.append(Int(sqlite3_column_int64(rs, 0)))
            for c in 1...8 {
                let type = sqlite3_column_type(rs, Int32(c))
                if type == SQLITE_NULL && (c == 4 || c == 5) { batch.fields.append((0, -1)); continue }
                guard type == SQLITE_TEXT, let p = sqlite3_column_text(rs, Int32(c)) else { return nil }
                let n = Int(sqlite3_column_bytes(rs, Int32(c)))
                batch.fields.append((Int32(batch.bytes.count), Int32(n)))
                batch.bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
            }
        }
        return false
    }

    /// Hashes and checks every row of `batch` into `out`, in `parts` pieces at once.
    static func hash(_ batch: Batch, parts: Int, into out: Hashed) {
        let n = batch.count
        out.leaves = [MerkleHash](repeating: Merkle.emptyRoot, count: n)
        out.oks = [Bool](repeating: false, count: n)
        let parts = max(1, min(parts, n))
        out.leaves.withUnsafeMutableBufferPointer { lp in
            out.oks.withUnsafeMutableBufferPointer { op in
                batch.bytes.withUnsafeBufferPointer { buf in
                    nonisolated(unsafe) let lp = lp, op = op, buf = buf
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        for r in (n * part / parts)..<(n * (part + 1) / parts) { (op[r], lp[r]) = checkRow(buf, batch, r) }
                    }
                }
            }
        }
    }

    /// Nil when anything needs the slow path; otherwise the log's extent, with `tree` fed every leaf.
    ///
    /// A pipeline of two batches: while one batch is hashed on another thread, the next is read
    /// from SQLite; then the hashed batch's links, times and tree nodes are checked in order.
    static func run(_ db: Database, tree: inout TreeChecker) throws -> Result? {
        let rows = try db.makeStatement(sql: "SELECT seq, content, recorded_at, event, clinician, patient_id, content_hash, prev_hash, hash FROM audit ORDER BY seq")
        let nodes = try db.makeStatement(sql: "SELECT pos, hash FROM audit_tree ORDER BY pos")
        let rs = rows.sqliteStatement, ns = nodes.sqliteStatement
        defer { sqlite3_reset(rs); sqlite3_reset(ns) }
        var position = 0
        var previousHash = Array(Digest.genesis.utf8)
        var lastRecorded: [UInt8] = []
        var expected = 0
        var current = Batch(), next = Batch()
        guard var done = read(rs, into: current) else { return nil }
        let hashed = Hashed()
        while current.count > 0 {
            // Hash this batch (on both cores when nothing is left to read) while reading the next.
            let group = DispatchGroup()
            let (batch, parts) = (current, done ? 2 : 1)
            DispatchQueue.global().async(group: group) { hash(batch, parts: parts, into: hashed) }
            var readFailed = false
            if done { next.reset() } else if let d = read(rs, into: next) { done = d } else { readFailed = true }
            group.wait()
            if readFailed { return nil }
            // In order: positions, links, times, the tree and the checkpoints.
            var failed = false
            current.bytes.withUnsafeBufferPointer { buf in
                for r in 0..<current.count {
                    guard hashed.oks[r], current.seqs[r] == expected else { failed = true; return }
                    let prev = current.field(r, 6), hash = current.field(r, 7), recorded = current.field(r, 1)
                    guard prev.1 == 64, equal(buf, prev, previousHash) else { failed = true; return }
                    let rec = UnsafeBufferPointer(rebasing: buf[Int(recorded.0)..<Int(recorded.0 + recorded.1)])
                    guard !rec.lexicographicallyPrecedes(lastRecorded) else { failed = true; return }
                    lastRecorded.replaceSubrange(lastRecorded.indices, with: rec)
                    previousHash.replaceSubrange(previousHash.indices, with: buf[Int(hash.0)..<Int(hash.0 + hash.1)])
                    let treeOK = tree.add(leaf: hashed.leaves[r]) { node in
                        guard sqlite3_step(ns) == SQLITE_ROW, sqlite3_column_int64(ns, 0) == Int64(position), sqlite3_column_type(ns, 1) == SQLITE_BLOB,
                              sqlite3_column_bytes(ns, 1) == 32, let p = sqlite3_column_blob(ns, 1),
                              MerkleHash(bytes: UnsafeRawBufferPointer(start: p, count: 32)) == node else { return false }
                        position += 1
                        return true
                    }
                    guard treeOK else { failed = true; return }
                    expected += 1
                }
            }
            if failed { return nil }
            swap(&current, &next)
        }
        // No saved node beyond the log's.
        guard sqlite3_step(ns) == SQLITE_DONE else { return nil }
        return Result(entries: expected, lastSeq: expected == 0 ? nil : expected - 1, lastHash: String(decoding: previousHash, as: UTF8.self))
    }

    static func equal(_ buf: UnsafeBufferPointer<UInt8>, _ f: (Int32, Int32), _ other: [UInt8]) -> Bool {
        guard Int(f.1) == other.count else { return false }
        return other.withUnsafeBufferPointer { memcmp(buf.baseAddress! + Int(f.0), $0.baseAddress!, other.count) == 0 }
    }

    /// The checks of one row that need no other row: the content in the canonical layout, its
    /// seq and fields equal to the columns, its SHA-256, its link; and its leaf hash.
    static func checkRow(_ buf: UnsafeBufferPointer<UInt8>, _ batch: Batch, _ r: Int) -> (Bool, MerkleHash) {
        let content = batch.field(r, 0)
        let base = buf.baseAddress! + Int(content.0)
        let text = UnsafeBufferPointer(start: base, count: Int(content.1))
        guard let scan = CanonicalScan(text), scan.seq == batch.seqs[r] else { return (false, Merkle.emptyRoot) }
        func same(_ inContent: (Int, Int)?, _ column: Int) -> Bool {
            let f = batch.field(r, column)
            guard let (s, c) = inContent else { return f.1 == -1 }
            return Int(f.1) == c && memcmp(base + s, buf.baseAddress! + Int(f.0), c) == 0
        }
        guard same(scan.recorded, 1), same(scan.event, 2), same(scan.clinician, 3), same(scan.patient, 4),
              AuditEvent(rawValue: String(decoding: UnsafeBufferPointer(start: base + scan.event.0, count: scan.event.1), as: UTF8.self)) != nil else {
            return (false, Merkle.emptyRoot)
        }
        let raw = UnsafeRawBufferPointer(text)
        let digest = SHA256.hash(data: raw)
        // content_hash as lower-case hex, then the link over the two raw digests.
        let ch = batch.field(r, 5), prev = batch.field(r, 6), hash = batch.field(r, 7)
        guard ch.1 == 64, hexEqual(digest, buf.baseAddress! + Int(ch.0)), prev.1 == 64, hash.1 == 64,
              var link = rawHex(buf.baseAddress! + Int(prev.0)) else { return (false, Merkle.emptyRoot) }
        digest.withUnsafeBytes { link.append(contentsOf: $0) }
        guard hexEqual(SHA256.hash(data: link), buf.baseAddress! + Int(hash.0)) else { return (false, Merkle.emptyRoot) }
        var h = SHA256()
        withUnsafeBytes(of: UInt8(0)) { h.update(bufferPointer: $0) }
        h.update(bufferPointer: raw)
        return (true, MerkleHash(h.finalize()))
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func hexEqual(_ d: SHA256Digest, _ p: UnsafePointer<UInt8>) -> Bool {
        d.withUnsafeBytes { raw in
            for i in 0..<32 where p[2 * i] != hexDigits[Int(raw[i] >> 4)] || p[2 * i + 1] != hexDigits[Int(raw[i] & 15)] { return false }
            return true
        }
    }

    /// 64 lower-case hex digits as 32 bytes; nil for anything else.
    static func rawHex(_ p: UnsafePointer<UInt8>) -> [UInt8]? {
        var out = [UInt8](); out.reserveCapacity(64)
        func v(_ c: UInt8) -> UInt8? { switch c { case 48...57: return c - 48; case 97...102: return c - 87; default: return nil } }
        for i in 0..<32 { guard let a = v(p[2 * i]), let b = v(p[2 * i + 1]) else { return nil }; out.append(a << 4 | b) }
        return out
    }
}

/// Reads an entry's content only if it is exactly in the layout `AuditEntry.canonical()`
/// writes (keys in that order, strings, integers, the detail object of strings), noting
/// where its compared fields are. Nil for anything else, and for compared fields with
/// escapes, escapes of `\u` form anywhere, or bytes that are not ASCII: the slow path decides those.
struct CanonicalScan {
    var seq = 0
    var recorded = (0, 0)
    var event = (0, 0)
    var clinician: (Int, Int)?
    var patient: (Int, Int)?

    init?(_ t: UnsafeBufferPointer<UInt8>) {
        var i = 0
        let n = t.count
        func lit(_ s: StaticString) -> Bool {
            let c = s.utf8CodeUnitCount
            guard i + c <= n, memcmp(t.baseAddress! + i, s.utf8Start, c) == 0 else { return false }
            i += c
            return true
        }
        var high = false
        /// A string at i and its contents' range. A compared one (`allowEscapes` false) must be
        /// plain ASCII, so that byte order and equality are `String`'s.
        func string(allowEscapes: Bool) -> (Int, Int)? {
            guard i < n, t[i] == 34 else { return nil }
            i += 1
            let start = i
            while i < n {
                let c = t[i]
                if c == 34 { i += 1; return (start, i - 1 - start) }
                if c < 32 { return nil }
                if c >= 128 { guard allowEscapes else { return nil }; high = true }
                if c == 92 {
                    guard allowEscapes, i + 1 < n else { return nil }
                    switch t[i + 1] { case 34, 92, 47, 98, 102, 110, 114, 116: i += 2; continue; default: return nil }
                }
                i += 1
            }
            return nil
        }
        func int() -> Int? {
            var v = 0, digits = 0, negative = false
            if i < n && t[i] == 45 { negative = true; i += 1 }
            while i < n, t[i] >= 48, t[i] <= 57 {
                let (m, o1) = v.multipliedReportingOverflow(by: 10), (a, o2) = m.addingReportingOverflow(Int(t[i] - 48))
                if o1 || o2 { return nil }
                v = a; i += 1; digits += 1
            }
            return digits == 0 ? nil : (negative ? -v : v)
        }
        guard lit("{\"action\":"), string(allowEscapes: true) != nil else { return nil }
        if lit(",\"clinician\":") { guard let c = string(allowEscapes: false) else { return nil }; clinician = c }
        guard lit(",\"detail\":{") else { return nil }
        if !lit("}") {
            repeat {
                guard string(allowEscapes: true) != nil, lit(":"), string(allowEscapes: true) != nil else { return nil }
            } while lit(",")
            guard lit("}") else { return nil }
        }
        guard lit(",\"event\":"), let e = string(allowEscapes: false) else { return nil }
        event = e
        guard lit(",\"outcome\":"), int() != nil else { return nil }
        if lit(",\"patient\":") { guard let p = string(allowEscapes: false) else { return nil }; patient = p }
        guard lit(",\"recorded\":"), let r = string(allowEscapes: false) else { return nil }
        recorded = r
        if lit(",\"role\":") { guard string(allowEscapes: true) != nil else { return nil } }
        guard lit(",\"seq\":"), let s = int() else { return nil }
        seq = s
        guard lit(",\"session\":"), string(allowEscapes: true) != nil, lit(",\"user\":"), string(allowEscapes: true) != nil, lit("}"), i == n else { return nil }
        // Text that is not UTF-8 reads differently as a String: the slow path decides.
        if high && String(validating: t, as: UTF8.self) == nil { return nil }
    }
}
