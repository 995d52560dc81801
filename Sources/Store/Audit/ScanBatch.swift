import Foundation
import GRDBSQLite

/// One batch of `FastChainScan`'s rows, their bytes side by side in one buffer, with the saved
/// tree nodes for them and what the batch before it ended with; and the reading of it from
/// SQLite, which is one thread's work.
final class ScanBatch: @unchecked Sendable {
    /// The first row's place in the log (its leaf index), a multiple of `FastChainScan.batchRows`.
    private(set) var start = 0
    private(set) var bytes: [UInt8] = []
    /// Per row: seq, and (start, count) of content, recorded_at, event, clinician, patient_id
    /// (count -1 for NULL), content_hash, prev_hash, hash.
    private(set) var seqs: [Int] = []
    private(set) var fields: [(Int32, Int32)] = []
    /// `audit_tree`'s nodes for these rows' leaves, in post-order (`BatchTree.savedNodes`).
    private(set) var saved: [MerkleHash] = []
    /// The row before the batch's first: its hash column and recorded_at (the genesis hash and
    /// nothing before the log's first row), which the first row must follow.
    var previousHash: [UInt8] = Array(Digest.genesis.utf8)
    var previousRecorded: [UInt8] = []

    static let perRow = 8
    var count: Int { seqs.count }
    func field(_ row: Int, _ k: Int) -> (Int32, Int32) { fields[row * Self.perRow + k] }

    /// The bytes of field `k` of `row`.
    func bytes(_ row: Int, _ k: Int) -> ArraySlice<UInt8> {
        let f = field(row, k)
        return bytes[Int(f.0)..<Int(f.0) + max(0, Int(f.1))]
    }

    /// Makes this batch follow `batch`: the next rows start after its, its last row comes before them.
    func follow(_ batch: ScanBatch) {
        start = batch.start + batch.count
        guard batch.count > 0 else { return }
        previousHash.replaceSubrange(previousHash.indices, with: batch.bytes(batch.count - 1, 7))
        previousRecorded.replaceSubrange(previousRecorded.indices, with: batch.bytes(batch.count - 1, 1))
    }

    /// Reads up to `rows` rows from `rs`, and then their saved tree nodes from `ns`, replacing
    /// what the batch held (but `start` and the previous row). Nil when a row or node is not
    /// what the fast path expects; otherwise whether the log is exhausted. Fills local arrays
    /// and hands them back at the end, so that the loop pays no exclusivity checks on the class.
    func read(_ rs: OpaquePointer, _ ns: OpaquePointer, rows: Int) -> Bool? {
        var bytes: [UInt8] = [], seqs: [Int] = [], fields: [(Int32, Int32)] = [], saved: [MerkleHash] = []
        swap(&bytes, &self.bytes); swap(&seqs, &self.seqs); swap(&fields, &self.fields); swap(&saved, &self.saved)
        defer { swap(&bytes, &self.bytes); swap(&seqs, &self.seqs); swap(&fields, &self.fields); swap(&saved, &self.saved) }
        bytes.removeAll(keepingCapacity: true); seqs.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true); saved.removeAll(keepingCapacity: true)
        var done = false
        while seqs.count < rows {
            let rc = sqlite3_step(rs)
            if rc == SQLITE_DONE { done = true; break }
            guard rc == SQLITE_ROW else { return nil }
            guard sqlite3_column_type(rs, 0) == SQLITE_INTEGER else { return nil }
            seqs.append(Int(sqlite3_column_int64(rs, 0)))
            for c in Int32(1)...8 {
                let type = sqlite3_column_type(rs, c)
                if type == SQLITE_NULL && (c == 4 || c == 5) { fields.append((0, -1)); continue }
                guard type == SQLITE_TEXT, let p = sqlite3_column_text(rs, c) else { return nil }
                let n = Int(sqlite3_column_bytes(rs, c))
                fields.append((Int32(bytes.count), Int32(n)))
                bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
            }
        }
        // The nodes at positions from 2s − popcount(s), s = start: every one there, in order.
        let first = 2 * start - start.nonzeroBitCount
        for k in 0..<BatchTree.savedNodes(start: start, count: seqs.count) {
            guard sqlite3_step(ns) == SQLITE_ROW, sqlite3_column_int64(ns, 0) == Int64(first + k), sqlite3_column_type(ns, 1) == SQLITE_BLOB,
                  sqlite3_column_bytes(ns, 1) == 32, let p = sqlite3_column_blob(ns, 1) else { return nil }
            saved.append(MerkleHash(rawBytesAt: p))
        }
        return done
    }

    /// No rows (the log ended with the batch before).
    func clear() {
        bytes.removeAll(keepingCapacity: true); seqs.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true); saved.removeAll(keepingCapacity: true)
    }
}
