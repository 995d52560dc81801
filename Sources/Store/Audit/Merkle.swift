import Crypto
import Foundation

/// A SHA-256 value of the Merkle tree, held inline (no allocation per node).
public struct MerkleHash: Hashable, Sendable, CustomStringConvertible {
    var words: (UInt64, UInt64, UInt64, UInt64)

    init(_ words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    init(_ digest: SHA256Digest) {
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        digest.withUnsafeBytes { src in withUnsafeMutableBytes(of: &w) { $0.copyMemory(from: src) } }
        words = w
    }

    /// From 32 raw bytes; nil for any other length.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 32 else { return nil }
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &w) { dst in for (i, b) in bytes.enumerated() { dst[i] = b } }
        words = w
    }

    /// From the 32 bytes at `p`, which the caller has checked are there: reading saved nodes by
    /// the million, without `init(bytes:)`'s loop over a collection.
    init(rawBytesAt p: UnsafeRawPointer) {
        words = (p.loadUnaligned(as: UInt64.self), p.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                 p.loadUnaligned(fromByteOffset: 16, as: UInt64.self), p.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    /// From 64 lower-case hex digits.
    public init?(hex: String) {
        guard let b = Digest.bytes(hex: hex) else { return nil }
        self.init(bytes: b)
    }

    public var bytes: [UInt8] { withUnsafeBytes(of: words) { Array($0) } }
    public var hex: String { withUnsafeBytes(of: words) { Digest.hex($0) } }
    public var description: String { hex }

    public static func == (a: MerkleHash, b: MerkleHash) -> Bool { a.words == b.words }
    public func hash(into h: inout Hasher) { h.combine(words.0); h.combine(words.1); h.combine(words.2); h.combine(words.3) }
}

/// The Merkle tree of RFC 9162 (Certificate Transparency 2.0) §2.1, over the audit log's
/// entries in order: a leaf is SHA-256(0x00 ‖ entry), an interior node SHA-256(0x01 ‖ left ‖
/// right), and a tree of n > 1 leaves splits at the largest power of two strictly below n.
/// Everything here is the RFC's algorithms on hashes; where the hashes come from (the store's
/// saved nodes, an exported file's entries) is the caller's.
public enum Merkle {
    /// MTH({}): the hash of the empty string.
    public static let emptyRoot = MerkleHash(SHA256.hash(data: Data()))

    public static func leafHash<D: DataProtocol>(_ data: D) -> MerkleHash {
        var h = SHA256()
        h.update(data: [UInt8(0)])
        h.update(data: data)
        return MerkleHash(h.finalize())
    }

    /// The leaf hash of an entry's canonical content (its UTF-8 bytes).
    public static func leafHash(content: String) -> MerkleHash {
        var s = content
        return s.withUTF8 { buf in
            var h = SHA256()
            withUnsafeBytes(of: UInt8(0)) { h.update(bufferPointer: $0) }
            h.update(bufferPointer: UnsafeRawBufferPointer(buf))
            return MerkleHash(h.finalize())
        }
    }

    public static func nodeHash(_ left: MerkleHash, _ right: MerkleHash) -> MerkleHash {
        var h = SHA256()
        withUnsafeBytes(of: UInt8(1)) { h.update(bufferPointer: $0) }
        withUnsafeBytes(of: left.words) { h.update(bufferPointer: $0) }
        withUnsafeBytes(of: right.words) { h.update(bufferPointer: $0) }
        return MerkleHash(h.finalize())
    }

    /// The largest power of two strictly below `n` (n > 1).
    static func split(_ n: Int) -> Int {
        precondition(n > 1)
        return 1 << (Int.bitWidth - 1 - (n - 1).leadingZeroBitCount)
    }

    /// Computes the root of a tree leaf by leaf, keeping one hash per level: after `n` leaves it
    /// holds the roots of the perfect subtrees that n's binary digits name, left to right, and
    /// folding them from the right gives MTH of the n leaves. `completed` hands every interior
    /// node to the caller as it is formed (level, index), in the post-order the store saves them in.
    public struct Accumulator {
        private(set) var stack: [MerkleHash] = []
        public private(set) var size = 0

        public init() { stack.reserveCapacity(64) }

        /// Adds the next leaf; `completed(level, index, hash)` for every interior node it finishes.
        public mutating func append(_ leaf: MerkleHash, completed: (Int, Int, MerkleHash) -> Void = { _, _, _ in }) {
            append(subtree: leaf, level: 0, completed: completed)
        }

        /// Adds the next 2^level leaves at once, as the root of their perfect subtree (which
        /// must start where the leaves so far end: `size` a multiple of 2^level), so a caller
        /// that hashed a block of leaves elsewhere folds in one hash instead of each leaf.
        /// `completed` sees the interior nodes above it that it finishes, as `append` would.
        public mutating func append(subtree: MerkleHash, level: Int, completed: (Int, Int, MerkleHash) -> Void = { _, _, _ in }) {
            precondition(size & ((1 << level) - 1) == 0, "a subtree of 2^\(level) leaves must start at a multiple of its size")
            stack.append(subtree)
            size += 1 << level
            var level = level, n = size >> level
            while n & 1 == 0 {
                let right = stack.removeLast(), left = stack.removeLast()
                let node = nodeHash(left, right)
                stack.append(node)
                level += 1; n >>= 1
                completed(level, (size >> level) - 1, node)
            }
        }

        /// MTH of the leaves so far.
        public var root: MerkleHash {
            guard var r = stack.last else { return Merkle.emptyRoot }
            for h in stack.dropLast().reversed() { r = nodeHash(h, r) }
            return r
        }
    }

    /// MTH(D[start ..< start + size]) from `perfect(level, index)`, the hash of the perfect,
    /// aligned subtree of 2^level leaves starting at leaf index · 2^level (every subtree the
    /// RFC's splitting reaches is one, or splits into them).
    public static func subtreeHash(start: Int, size: Int, perfect: (Int, Int) throws -> MerkleHash) rethrows -> MerkleHash {
        precondition(size > 0)
        if size & (size - 1) == 0 {
            let level = size.trailingZeroBitCount
            return try perfect(level, start >> level)
        }
        let k = split(size)
        return nodeHash(try subtreeHash(start: start, size: k, perfect: perfect), try subtreeHash(start: start + k, size: size - k, perfect: perfect))
    }

    /// PATH(m, D[n]) of RFC 9162 §2.1.3.1: the audit path of leaf `index` in the tree of `size` leaves.
    public static func inclusionProof(index: Int, size: Int, perfect: (Int, Int) throws -> MerkleHash) rethrows -> [MerkleHash] {
        precondition(index >= 0 && index < size)
        var path: [MerkleHash] = []
        var start = 0, n = size, m = index
        // Walk down from the root; the RFC lists the siblings from the leaf up.
        while n > 1 {
            let k = split(n)
            if m < k {
                path.append(try subtreeHash(start: start + k, size: n - k, perfect: perfect))
                n = k
            } else {
                path.append(try subtreeHash(start: start, size: k, perfect: perfect))
                start += k; m -= k; n -= k
            }
        }
        return path.reversed()
    }

    /// PROOF(m, D[n]) of RFC 9162 §2.1.4.1: that the tree of `oldSize` leaves is a prefix of the tree of `newSize`.
    public static func consistencyProof(oldSize: Int, newSize: Int, perfect: (Int, Int) throws -> MerkleHash) rethrows -> [MerkleHash] {
        precondition(oldSize >= 0 && oldSize <= newSize)
        if oldSize == 0 || oldSize == newSize { return [] }
        var proof: [MerkleHash] = []
        var start = 0, m = oldSize, n = newSize, whole = true
        while m != n {
            let k = split(n)
            if m <= k {
                proof.append(try subtreeHash(start: start + k, size: n - k, perfect: perfect))
                n = k
            } else {
                proof.append(try subtreeHash(start: start, size: k, perfect: perfect))
                start += k; m -= k; n -= k; whole = false
            }
        }
        // SUBPROOF(m, D[m], b): nothing when D[m] is the old tree itself, else its hash.
        if !whole { proof.append(try subtreeHash(start: start, size: m, perfect: perfect)) }
        return proof.reversed()
    }

    /// RFC 9162 §2.1.3.2: whether `path` proves `leaf` is leaf `index` of the tree of `size` leaves with `root`.
    public static func verifyInclusion(leaf: MerkleHash, index: Int, size: Int, path: [MerkleHash], root: MerkleHash) -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index, sn = size - 1, r = leaf
        for p in path {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 { while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 } }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1; sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// RFC 9162 §2.1.4.2: whether `proof` shows the tree (`oldSize`, `oldRoot`) is a prefix of (`newSize`, `newRoot`).
    public static func verifyConsistency(oldSize: Int, oldRoot: MerkleHash, newSize: Int, newRoot: MerkleHash, proof: [MerkleHash]) -> Bool {
        guard oldSize >= 0, oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        if oldSize == 0 { return proof.isEmpty }
        guard !proof.isEmpty else { return false }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = oldSize - 1, sn = newSize - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr); sr = nodeHash(c, sr)
                if fn & 1 == 0 { while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 } }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1; sn >>= 1
        }
        return fr == oldRoot && sr == newRoot && sn == 0
    }
}
