/// The Merkle nodes that lie wholly inside one batch of consecutive leaves, hashed where the
/// batch's leaves are (on `FastChainScan`'s hashing thread), so that checking the tree in
/// order only has the few nodes above the batches left to hash.
///
/// The batch must start at a multiple of the largest power of two not above its size (each
/// of `FastChainScan`'s batches but the last is 4,096 leaves at a multiple of 4,096, the last
/// fewer): then every perfect subtree the batch splits into is one of the whole tree's, and
/// the batch's own nodes, leaves included, in post-order, are exactly the nodes `AuditTree`
/// saves for its leaves, but for those above the batch that its last leaf completes.
struct BatchTree {
    /// The first leaf's index in the whole log.
    let start: Int
    /// How many leaves.
    let count: Int
    /// Every node of the batch's perfect subtrees, leaves included, in post-order: the node of
    /// 2^level leaves from the batch's leaf index · 2^level at `AuditTree.position(level:index:)`.
    let nodes: [MerkleHash]

    init(start: Int, leaves: UnsafeBufferPointer<MerkleHash>) {
        precondition(leaves.isEmpty || start & (Self.largestPowerOfTwo(atMost: leaves.count) - 1) == 0,
                     "a batch of \(leaves.count) leaves cannot start at leaf \(start)")
        self.start = start
        count = leaves.count
        var nodes: [MerkleHash] = []
        nodes.reserveCapacity(2 * leaves.count)
        var accumulator = Merkle.Accumulator()
        for leaf in leaves {
            nodes.append(leaf)
            accumulator.append(leaf) { _, _, node in nodes.append(node) }
        }
        self.nodes = nodes
    }

    /// The perfect subtrees the batch's first `leaves` leaves split into, left to right, as
    /// (level, root): what a `Merkle.Accumulator` holds after them, to append to one that holds
    /// the leaves before the batch.
    func subtrees(leaves m: Int) -> [(level: Int, hash: MerkleHash)] {
        precondition(m >= 0 && m <= count)
        var out: [(level: Int, hash: MerkleHash)] = []
        var offset = 0
        for level in (0..<Int.bitWidth - 1).reversed() where m & (1 << level) != 0 {
            out.append((level, nodes[AuditTree.position(level: level, index: offset >> level)]))
            offset += 1 << level
        }
        return out
    }

    /// How many nodes `AuditTree` saves for leaves `start ..< start + count`: 2n − popcount(n)
    /// nodes are complete after n leaves. At least `nodes.count`; the rest are above the batch.
    static func savedNodes(start: Int, count: Int) -> Int {
        let end = start + count
        return (2 * end - end.nonzeroBitCount) - (2 * start - start.nonzeroBitCount)
    }

    static func largestPowerOfTwo(atMost n: Int) -> Int {
        precondition(n > 0)
        return 1 << (Int.bitWidth - 1 - n.leadingZeroBitCount)
    }
}
