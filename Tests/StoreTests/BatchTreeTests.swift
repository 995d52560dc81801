import Foundation
import Testing
@testable import Store
import TestSupport

/// The fast path's tree in batches (`BatchTree`, `Merkle.Accumulator.append(subtree:)`,
/// `TreeChecker.add(batch:)`) gives every answer that adding the leaves one by one gives: the
/// saved nodes, the roots, each checkpoint's match or problem; and on a log of more than one
/// of `FastChainScan`'s batches, tampering inside a later batch or above the batches shows.
@Suite struct BatchTreeTests {
    func leaves(_ n: Int) -> [MerkleHash] { (0..<n).map { Merkle.leafHash(Array("entry \($0)".utf8)) } }

    /// Batches of `size` (a power of two) from leaf 0, the last one short.
    func batches(_ all: [MerkleHash], size: Int) -> [BatchTree] {
        stride(from: 0, to: all.count, by: size).map { start in
            all[start..<min(all.count, start + size)].withUnsafeBufferPointer { BatchTree(start: start, leaves: $0) }
        }
    }

    @Test func aBatchsNodesAreTheSavedNodesOfItsLeaves() {
        let all = leaves(45)
        // Leaf by leaf: every node in post-order, as `AuditTree` saves them, and each prefix's root.
        var saved: [MerkleHash] = []
        var roots = [Merkle.emptyRoot]
        var one = Merkle.Accumulator()
        for l in all {
            saved.append(l)
            one.append(l) { _, _, node in saved.append(node) }
            roots.append(one.root)
        }
        for size in [1, 2, 8, 16, 64] {
            var many = Merkle.Accumulator()
            for b in batches(all, size: size) {
                let first = 2 * b.start - b.start.nonzeroBitCount
                #expect(Array(saved[first..<first + b.nodes.count]) == b.nodes, "batch at \(b.start) of \(size)")
                for m in 0...b.count {
                    var prefix = many
                    for s in b.subtrees(leaves: m) { prefix.append(subtree: s.hash, level: s.level) }
                    #expect(prefix.root == roots[b.start + m] && prefix.size == b.start + m)
                }
                var above: [MerkleHash] = []
                for s in b.subtrees(leaves: b.count) { many.append(subtree: s.hash, level: s.level) { _, _, node in above.append(node) } }
                let end = first + BatchTree.savedNodes(start: b.start, count: b.count)
                #expect(Array(saved[first + b.nodes.count..<end]) == above, "above the batch at \(b.start) of \(size)")
            }
            #expect(many.root == one.root && many.size == one.size)
        }
    }

    @Test func checkpointsInsideABatchAreHeldAsLeafByLeaf() {
        let all = leaves(45)
        var roots = [Merkle.emptyRoot]
        var acc = Merkle.Accumulator()
        for l in all { acc.append(l); roots.append(acc.root) }
        func checker(_ sizes: [Int], wrong: Int?) -> TreeChecker {
            TreeChecker(checkpoints: sizes.map { size in
                let root = size == wrong || size >= roots.count ? Merkle.leafHash([UInt8(7)]) : roots[size]
                return (Checkpoint(log: "test", size: size, root: root.hex, time: "2026-12-03T00:00:00.000Z", signature: ""), false)
            }, key: nil)
        }
        for sizes in [[0, 3, 8, 9, 13, 16, 16, 40, 45], [13, 50], [45, 46]] {
            for wrong in [nil, 3, 8, 13, 16, 45] as [Int?] {
                var one = checker(sizes, wrong: wrong)
                for l in all where one.add(leaf: l) {}
                one.finish()
                for size in [8, 16, 64] {
                    var many = checker(sizes, wrong: wrong)
                    for b in batches(all, size: size) where !many.add(batch: b) { break }
                    many.finish()
                    #expect(many.problem == one.problem && many.matched == one.matched, "\(sizes), wrong \(wrong ?? -1), batches of \(size)")
                    if one.problem == nil { #expect(many.accumulator.root == one.accumulator.root) }
                }
            }
        }
    }

    /// More than two of `FastChainScan`'s batches, with checkpoints inside them: the fast path
    /// takes the log whole, and a changed node inside the second batch or above the first, or
    /// a checkpoint inside a batch that no longer matches, is caught.
    @Test func aLogOfSeveralBatchesVerifiesAndTamperingShows() throws {
        let f = try AuditFixture(entries: 0)
        let n = 2 * FastChainScan.batchRows + 100
        var written = 0
        for stop in [1000, FastChainScan.batchRows + 10, n] {
            try f.store.append((written..<stop).map { AuditFixture.entry(.patientOpened, patient: "pt-\($0 % 7)", detail: ["visit": String($0)]) })
            written = stop
            try f.store.writeCheckpoint(reason: "test")
        }
        let result = try f.store.pool.read { db -> (FastChainScan.Result?, Int) in
            var tree = TreeChecker(checkpoints: try RoundsStore.checkpoints(db).map { ($0, false) }, key: f.store.signingKey.publicKey)
            return (try FastChainScan.run(db, tree: &tree), tree.matched)
        }
        #expect(result.0?.entries == n && result.1 == 3)
        let fast = try f.store.verifyAudit(), slow = try f.store.verifyAudit(fastPath: false)
        #expect(fast.ok && slow.ok && fast.treeRoot == slow.treeRoot && fast.checkpoints == 3 && slow.checkpoints == 3, "\(fast.problems) \(slow.problems)")
        let inSecond = AuditTree.position(level: 2, index: (FastChainScan.batchRows + 200) / 4)
        let above = AuditTree.position(level: 13, index: 0)
        for pos in [inSecond, above] {
            let t = try f.copy()
            try t.tamper("UPDATE audit_tree SET hash = zeroblob(32) WHERE pos = ?", [pos])
            let v = try t.store.verifyAudit()
            #expect(v.problems.first?.kind == .tree && v.problems.first?.message.contains("node \(pos) ") == true, "\(pos): \(v.problems)")
        }
        // Signed with the site's key, so only its root gives it away.
        let t = try f.copy()
        let forged = try Checkpoint.sign(size: FastChainScan.batchRows + 20, root: Merkle.emptyRoot, time: "2026-12-03T00:00:00.000Z", key: t.store.signingKey)
        try t.tamper("INSERT INTO audit_checkpoint (size, root, time, log, signature, reason) VALUES (?, ?, ?, ?, ?, 'x')",
                     [forged.size, forged.root, forged.time, forged.log, forged.signature])
        let v = try t.store.verifyAudit()
        #expect(v.problems.first?.kind == .checkpoint && v.problems.first?.seq == forged.size - 1 && v.problems.first?.message.contains("rewritten") == true, "\(v.problems)")
    }
}
