import Foundation

/// Recomputes the Merkle tree from the entries as a verifier reads them, leaf by leaf, and
/// holds it against the signed checkpoints: each checkpoint's signature (when the public key
/// is known), and its root against the root of the first `size` entries actually read. Used by
/// `audit verify` on the store (which also compares every saved node of the tree) and on an
/// exported file alike.
struct TreeChecker {
    private(set) var accumulator = Merkle.Accumulator()
    /// Smallest first.
    let checkpoints: [Checkpoint]
    /// Which of `checkpoints` the verifier brought (kept from before), by index.
    let trusted: Set<Int>
    private var next = 0
    private(set) var problem: AuditProblem?
    private(set) var matched = 0

    /// `key` nil: the signatures are not checked (the caller says so).
    init(checkpoints: [(Checkpoint, trusted: Bool)], key: SigningKey.PublicKey?) {
        let sorted = checkpoints.enumerated().sorted { ($0.element.0.size, $0.offset) < ($1.element.0.size, $1.offset) }
        self.checkpoints = sorted.map(\.element.0)
        trusted = Set(sorted.enumerated().filter { $0.element.element.trusted }.map(\.offset))
        if let key {
            for (i, c) in self.checkpoints.enumerated() {
                if let p = c.problem(with: key) { problem = AuditProblem(seq: nil, kind: .checkpoint, message: "\(describe(i)): \(p)"); break }
            }
        }
        for (i, c) in self.checkpoints.enumerated() where problem == nil && c.rootHash == nil {
            problem = AuditProblem(seq: nil, kind: .checkpoint, message: "\(describe(i)): its root is not a SHA-256 digest")
        }
        matchAt(size: 0)
    }

    func describe(_ i: Int) -> String {
        let c = checkpoints[i]
        return (trusted.contains(i) ? "your checkpoint" : "the checkpoint") + " of \(c.time) (size \(c.size))"
    }

    /// Adds the next entry's leaf; `completed(node)` sees the leaf and every node it completes,
    /// in post-order, and returns false if the saved tree disagrees. False once broken.
    mutating func add(content: String, completed: (MerkleHash) -> Bool = { _ in true }) -> Bool {
        add(leaf: Merkle.leafHash(content: content), completed: completed)
    }

    mutating func add(leaf: MerkleHash, completed: (MerkleHash) -> Bool = { _ in true }) -> Bool {
        guard problem == nil else { return false }
        var ok = completed(leaf)
        accumulator.append(leaf) { _, _, node in if ok { ok = completed(node) } }
        if !ok { return false }
        matchAt(size: accumulator.size)
        return problem == nil
    }

    /// Adds a batch of leaves whose own nodes the caller has hashed and checked (`BatchTree`):
    /// only the nodes above the batch are hashed here, and each checkpoint that ends inside it
    /// is held against the root of its prefix, from the batch's subtrees. `completed` sees the
    /// nodes above the batch that it completes, in post-order. Same answers as adding its
    /// leaves one by one.
    mutating func add(batch: BatchTree, completed: (MerkleHash) -> Bool = { _ in true }) -> Bool {
        guard problem == nil else { return false }
        precondition(batch.start == accumulator.size, "batch at leaf \(batch.start), after \(accumulator.size) leaves")
        let end = batch.start + batch.count
        while problem == nil, next < checkpoints.count, checkpoints[next].size > batch.start, checkpoints[next].size < end {
            let size = checkpoints[next].size
            var prefix = accumulator
            for s in batch.subtrees(leaves: size - batch.start) { prefix.append(subtree: s.hash, level: s.level) }
            matchAt(size: size, root: prefix.root)
        }
        if problem != nil { return false }
        var ok = true
        for s in batch.subtrees(leaves: batch.count) {
            accumulator.append(subtree: s.hash, level: s.level) { _, _, node in if ok { ok = completed(node) } }
        }
        if !ok { return false }
        matchAt(size: accumulator.size)
        return problem == nil
    }

    private mutating func matchAt(size: Int) {
        guard next < checkpoints.count, checkpoints[next].size == size else { return }
        matchAt(size: size, root: accumulator.root)
    }

    /// Holds every checkpoint of `size` still to be matched against `root`, the root of the first `size` entries.
    private mutating func matchAt(size: Int, root: MerkleHash) {
        while problem == nil, next < checkpoints.count, checkpoints[next].size == size {
            if checkpoints[next].rootHash != root {
                problem = AuditProblem(seq: size == 0 ? nil : size - 1, kind: .checkpoint,
                                       message: "\(describe(next)) signs root \(checkpoints[next].root.prefix(16))…, but the first \(size) entries hash to \(root.hex.prefix(16))…: history before it was rewritten")
            } else { matched += 1 }
            next += 1
        }
    }

    /// After the last entry: any checkpoint larger than the log is a removed tail.
    mutating func finish() {
        guard problem == nil, next < checkpoints.count else { return }
        let c = checkpoints[next]
        problem = AuditProblem(seq: accumulator.size, kind: .deleted,
                               message: "missing: \(describe(next)) signs \(c.size) entries, but the log holds \(accumulator.size)")
    }
}
