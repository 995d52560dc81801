import Foundation
import Testing
@testable import Store

/// RFC 9162 §2.1 written out again here, as the RFC states it (recursive, over arrays, no
/// saved nodes), to hold `Merkle` and the store's tree against.
enum ReferenceMerkle {
    static func sha(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Digest.sha256(Data(bytes))
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex { let j = hex.index(i, offsetBy: 2); out.append(UInt8(hex[i..<j], radix: 16)!); i = j }
        return out
    }

    /// k: the largest power of two smaller than n, found by doubling.
    static func k(_ n: Int) -> Int { var k = 1; while k * 2 < n { k *= 2 }; return k }

    /// MTH(D[n]).
    static func mth(_ d: ArraySlice<[UInt8]>) -> [UInt8] {
        if d.isEmpty { return sha([]) }
        if d.count == 1 { return sha([0] + d.first!) }
        let k = k(d.count)
        return sha([1] + mth(d.prefix(k)) + mth(d.dropFirst(k)))
    }

    /// PATH(m, D[n]).
    static func path(_ m: Int, _ d: ArraySlice<[UInt8]>) -> [[UInt8]] {
        if d.count == 1 { return [] }
        let k = k(d.count)
        if m < k { return path(m, d.prefix(k)) + [mth(d.dropFirst(k))] }
        return path(m - k, d.dropFirst(k)) + [mth(d.prefix(k))]
    }

    /// SUBPROOF(m, D[n], b).
    static func subproof(_ m: Int, _ d: ArraySlice<[UInt8]>, _ b: Bool) -> [[UInt8]] {
        if m == d.count { return b ? [] : [mth(d)] }
        let k = k(d.count)
        if m <= k { return subproof(m, d.prefix(k), b) + [mth(d.dropFirst(k))] }
        return subproof(m - k, d.dropFirst(k), false) + [mth(d.prefix(k))]
    }

    static func proof(_ m: Int, _ d: [[UInt8]]) -> [[UInt8]] { m == 0 || m == d.count ? [] : subproof(m, d[...], true) }
}

@Suite struct MerkleTests {
    func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
    func leaves(_ n: Int) -> [[UInt8]] { (0..<n).map { Array("entry \($0) \(String(repeating: "x", count: $0 % 5))".utf8) } }

    /// The perfect subtrees, as the store would have saved them, from the reference.
    func perfect(_ d: [[UInt8]]) -> (Int, Int) -> MerkleHash {
        { level, index in MerkleHash(bytes: ReferenceMerkle.mth(d[(index << level)..<((index + 1) << level)]))! }
    }

    @Test func knownVectors() {
        // transparency-dev/merkle rfc6962 tests (../shared/research/anchors.md §6.4).
        #expect(Merkle.emptyRoot.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Merkle.leafHash([UInt8]()).hex == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        let ct: [[UInt8]] = [[], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
                             [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57], Array(0x60...0x6f)]
        var acc = Merkle.Accumulator()
        for l in ct { acc.append(Merkle.leafHash(l)) }
        #expect(acc.root.hex == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
        #expect(hex(ReferenceMerkle.mth(ct[...])) == acc.root.hex)
    }

    @Test func rootsAndProofsMatchTheRFCsRecursion() {
        for n in Array(1...8) + [11, 13, 16, 31, 33] {
            let d = leaves(n)
            var acc = Merkle.Accumulator()
            var completed: [(Int, Int)] = []
            for (i, l) in d.enumerated() {
                acc.append(Merkle.leafHash(l)) { level, index, node in
                    completed.append((level, index))
                    #expect(node.bytes == ReferenceMerkle.mth(d[(index << level)..<((index + 1) << level)]))
                }
                #expect(acc.root.bytes == ReferenceMerkle.mth(d[0...i]), "root of \(i + 1)")
            }
            #expect(completed.count == n - n.nonzeroBitCount)
            let root = acc.root
            let p = perfect(d)
            #expect(Merkle.subtreeHash(start: 0, size: n, perfect: p) == root)
            for m in 0..<n {
                let path = Merkle.inclusionProof(index: m, size: n, perfect: p)
                #expect(path.map(\.bytes) == ReferenceMerkle.path(m, d[...]), "PATH(\(m), D[\(n)])")
                let leaf = Merkle.leafHash(d[m])
                #expect(Merkle.verifyInclusion(leaf: leaf, index: m, size: n, path: path, root: root))
                // Every wrong claim fails: another leaf or index, a flipped or extra path hash. (The size is
                // bound by the signed checkpoint, which signs it with the root.)
                #expect(!Merkle.verifyInclusion(leaf: Merkle.leafHash(d[(m + 1) % n] + [1]), index: m, size: n, path: path, root: root))
                if n > 1 { #expect(!Merkle.verifyInclusion(leaf: leaf, index: (m + 1) % n, size: n, path: path, root: root)) }
                for i in path.indices {
                    var bad = path; var b = bad[i].bytes; b[i % 32] ^= 1; bad[i] = MerkleHash(bytes: b)!
                    #expect(!Merkle.verifyInclusion(leaf: leaf, index: m, size: n, path: bad, root: root))
                }
                #expect(!Merkle.verifyInclusion(leaf: leaf, index: m, size: n, path: path + [root], root: root))
            }
            for m in 0...n {
                let proof = Merkle.consistencyProof(oldSize: m, newSize: n, perfect: p)
                #expect(proof.map(\.bytes) == ReferenceMerkle.proof(m, d), "PROOF(\(m), D[\(n)])")
                let old = MerkleHash(bytes: ReferenceMerkle.mth(d.prefix(m)))!
                #expect(Merkle.verifyConsistency(oldSize: m, oldRoot: old, newSize: n, newRoot: root, proof: proof), "\(m) → \(n)")
                guard m > 0 && m < n else { continue }
                // A different old tree (a rewritten prefix) is not consistent with the new one.
                var other = d; other[m - 1] += [0xff]
                let forgedOld = MerkleHash(bytes: ReferenceMerkle.mth(other.prefix(m)))!
                #expect(!Merkle.verifyConsistency(oldSize: m, oldRoot: forgedOld, newSize: n, newRoot: root, proof: proof))
                #expect(!Merkle.verifyConsistency(oldSize: m, oldRoot: old, newSize: n, newRoot: forgedOld, proof: proof))
                for i in proof.indices {
                    var bad = proof; var b = bad[i].bytes; b[0] ^= 0x80; bad[i] = MerkleHash(bytes: b)!
                    #expect(!Merkle.verifyConsistency(oldSize: m, oldRoot: old, newSize: n, newRoot: root, proof: bad))
                }
                #expect(!Merkle.verifyConsistency(oldSize: m, oldRoot: old, newSize: n, newRoot: root, proof: []))
                if m + 1 < n { #expect(!Merkle.verifyConsistency(oldSize: m + 1, oldRoot: old, newSize: n, newRoot: root, proof: proof)) }
            }
        }
    }

    @Test func postOrderPositionsAreTheOrderNodesAreMade() {
        var made: [Int] = []
        var acc = Merkle.Accumulator()
        for i in 0..<100 {
            made.append(AuditTree.position(level: 0, index: i))
            acc.append(Merkle.emptyRoot) { level, index, _ in made.append(AuditTree.position(level: level, index: index)) }
        }
        #expect(made == Array(0..<made.count))
    }

    @Test func theStoresTreeIsTheRFCsTreeOfItsEntries() throws {
        let f = try AuditFixture(entries: 21)
        let contents: [[UInt8]] = try f.rows().map { Array(($0["content"] as String).utf8) }
        #expect(contents.count == 23)
        let c = try #require(try f.store.writeCheckpoint(reason: "test"))
        #expect(c.size == 23 && c.root == hex(ReferenceMerkle.mth(contents[...])))
        let proof = try f.store.proveDecision(try f.store.allDecisions()[1].id)
        let index = try #require(proof.leafIndex)
        #expect(proof.path == ReferenceMerkle.path(index, contents[...]).map(hex))
    }
}
