import Foundation

/// One batch's hashing and checks (`FastChainScan.checkRow` for every row, then the batch's
/// tree against its saved nodes), handed out in chunks of rows to whichever thread is free:
/// the hashing thread from the start, the reading thread once it has read the next batch. So
/// the two cores share the work however it splits between reading and hashing, without a third
/// thread (which, on two cores, was slower). Whoever finishes the last chunk builds the tree.
final class BatchHashing: @unchecked Sendable {
    static let chunkRows = 256

    let batch: ScanBatch
    private let leaves: UnsafeMutableBufferPointer<MerkleHash>
    private let lock = NSLock()
    private var claimed = 0, finished = 0, allRowsOK = true
    /// Read once every thread's `work()` has returned.
    private(set) var tree: BatchTree?
    private(set) var treeOK = false
    var ok: Bool { allRowsOK && treeOK }

    init(_ batch: ScanBatch) {
        self.batch = batch
        leaves = .allocate(capacity: max(1, batch.count))
        leaves.initialize(repeating: Merkle.emptyRoot)
    }

    deinit { leaves.deallocate() }

    /// Hashes and checks chunks of rows until none is left.
    func work() {
        let n = batch.count, chunks = (n + Self.chunkRows - 1) / Self.chunkRows
        batch.bytes.withUnsafeBufferPointer { buf in
            while let c = claim(below: chunks) {
                let rows = c * Self.chunkRows..<min(n, (c + 1) * Self.chunkRows)
                var chunkOK = true
                for r in rows {
                    let (rowOK, leaf) = FastChainScan.checkRow(buf, batch, r)
                    leaves[r] = leaf
                    chunkOK = chunkOK && rowOK
                }
                if finish(rows.count, ok: chunkOK) == n { buildTree() }
            }
        }
    }

    private func claim(below chunks: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard claimed < chunks else { return nil }
        claimed += 1
        return claimed - 1
    }

    /// How many rows are done, with these.
    private func finish(_ rows: Int, ok: Bool) -> Int {
        lock.lock(); defer { lock.unlock() }
        finished += rows
        allRowsOK = allRowsOK && ok
        return finished
    }

    /// The batch's own tree, held against the first of its saved nodes (those above it are the caller's).
    private func buildTree() {
        let t = BatchTree(start: batch.start, leaves: UnsafeBufferPointer(leaves))
        tree = t
        treeOK = t.nodes.count <= batch.saved.count && t.nodes.withUnsafeBytes { mine in
            batch.saved.withUnsafeBytes { saved in memcmp(mine.baseAddress!, saved.baseAddress!, mine.count) == 0 }
        }
    }
}
