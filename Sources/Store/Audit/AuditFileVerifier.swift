import Foundation

/// Verifies an exported JSONL audit file offline, with nothing but the file: each line's
/// content against its SHA-256, each entry's link to the one before, the header and the end
/// line's count (a truncated file is caught), and for a complete plain export that the last
/// entry is the store's head at export time. A complete plain export's Merkle tree is
/// recomputed from its entries and held against the signed checkpoints it carries (and
/// against `trusted`, one the verifier kept from before): with the site's public key, no
/// secret, this shows the site signed exactly these entries, and that the log a kept
/// checkpoint signed is where this one begins.
public enum AuditFileVerifier {
    public static func verify(path: String, publicKey: SigningKey.PublicKey? = nil, trusted: Checkpoint? = nil) throws -> AuditVerification {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError.notFound("cannot read \(path)") }
        defer { try? handle.close() }
        var v = AuditVerification()
        var lines = LineReader(handle: handle)
        func problem(_ line: Int, _ m: String) -> AuditVerification {
            v.problems.append(AuditProblem(seq: nil, kind: .format, message: "\(path):\(line): \(m)")); return v
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let first = lines.next(), let header = try? decoder.decode(AuditFileFormat.Header.self, from: Data(first.utf8)), header.type == "header" else {
            return problem(1, "not a Rounds audit export: the first line is not its header")
        }
        guard AuditFileFormat.formats.contains(header.format) else { return problem(1, "format \(header.format), expected \(AuditFileFormat.format)") }
        let exportChain = header.chain == "export"
        var walker = ChainWalker(contiguous: header.complete && !exportChain)
        // The tree can be recomputed only from every original entry.
        let wholeLog = header.complete && !exportChain
        var checkpoints: [Checkpoint] = []
        var tree: TreeChecker?
        var lineNumber = 1
        var ended: Int?
        var exportPrevious = Digest.genesis
        while let text = lines.next() {
            lineNumber += 1
            if text.isEmpty { continue }
            if ended != nil { return problem(lineNumber, "text after the end line") }
            if text.hasPrefix(#"{"checkpoint":"#) {
                guard tree == nil, walker.count == 0, let c = try? decoder.decode(AuditFileFormat.CheckpointLine.self, from: Data(text.utf8)), c.type == "checkpoint" else {
                    return problem(lineNumber, "not a checkpoint line, or a checkpoint after the entries began")
                }
                checkpoints.append(c.checkpoint)
                continue
            }
            if tree == nil && wholeLog {
                tree = TreeChecker(checkpoints: checkpoints.map { ($0, false) } + (trusted.map { [($0, true)] } ?? []), key: publicKey)
                if let p = tree?.problem { v.problems.append(p); return v }
            }
            let flat = FlatJSON.parse(text)
            if flat?["type"] == .string("end"), case .int(let n)? = flat?["entries"] { ended = n; continue }
            guard let line = AuditFileFormat.Line(flat) ?? (try? decoder.decode(AuditFileFormat.Line.self, from: Data(text.utf8))), line.type == "entry" else {
                return problem(lineNumber, "not an audit entry line")
            }
            if exportChain {
                // The file's own chain: each line follows the line before it.
                if line.prevHash != exportPrevious {
                    v.entries = walker.count
                    v.problems.append(AuditProblem(seq: line.seq, kind: .altered, message: "line \(lineNumber) does not follow the line before it: a line was altered, removed, inserted or moved"))
                    return v
                }
                exportPrevious = line.hash
            }
            if !walker.accept(seq: line.seq, content: line.content, contentHash: line.contentSha256, prevHash: line.prevHash, hash: line.hash) { break }
            if tree != nil && !tree!.add(content: line.content) { break }
        }
        v.entries = walker.count
        v.headSeq = walker.lastSeq
        v.headHash = walker.lastSeq == nil ? nil : walker.lastHash
        if let p = walker.problem ?? tree?.problem { v.problems.append(p); return v }
        guard let count = ended else { return problem(lineNumber, "the end line is missing: the file was cut short") }
        if count != walker.count { return problem(lineNumber, "the end line says \(count) entries; the file holds \(walker.count)") }
        if header.complete && !exportChain {
            if header.storeHeadSeq != walker.lastSeq || header.storeHeadHash != v.headHash {
                return problem(lineNumber, "the last entry is not the store's head at export time (#\(header.storeHeadSeq.map(String.init) ?? "none")): entries were removed from the end")
            }
            v.headAuthenticated = true
        }
        if !wholeLog && (trusted != nil || publicKey != nil) {
            return problem(lineNumber, "a \(exportChain ? "pseudonymized" : "filtered") export carries no signed checkpoint: only a complete, plain export can be checked against the site's public key or a kept checkpoint (for one decision, `audit prove`)")
        }
        if var t = tree {
            t.finish()
            if let p = t.problem { v.problems.append(p); return v }
            v.treeRoot = t.accumulator.root.hex
            v.checkpoints = t.matched
            v.signaturesChecked = publicKey != nil
            v.latestCheckpoint = checkpoints.max { $0.size < $1.size }
            if publicKey != nil && checkpoints.isEmpty && trusted == nil {
                return problem(lineNumber, "the file carries no signed checkpoint (an export older than format \(AuditFileFormat.format)): there is nothing to check the public key against")
            }
            if publicKey == nil && t.matched > 0 {
                v.notes.append("\(t.matched) checkpoint\(t.matched == 1 ? "" : "s") match the entries, but their signatures were not checked: give --public-key (the site's, from `rounds audit key`)")
            }
            if let last = v.latestCheckpoint, last.size < walker.count {
                v.notes.append("entries #\(last.size)–#\(walker.count - 1) come after the newest checkpoint: no signature covers them")
            }
        }
        if exportChain { v.notes.append("pseudonymized export: its chain covers the exported lines, not the store's entries") }
        else if !header.complete { v.notes.append("filtered export: only consecutive entries are linked") }
        return v
    }

    /// Lines of a file, read in 1 MiB blocks.
    struct LineReader {
        let handle: FileHandle
        var buffer = Data()
        var atEnd = false
        init(handle: FileHandle) { self.handle = handle }
        mutating func next() -> String? {
            while true {
                if let i = buffer.firstIndex(of: 10) {
                    let line = buffer[buffer.startIndex..<i]
                    buffer = buffer[(i + 1)...]
                    return String(decoding: line, as: UTF8.self)
                }
                if atEnd {
                    if buffer.isEmpty { return nil }
                    defer { buffer = Data() }
                    return String(decoding: buffer, as: UTF8.self)
                }
                let chunk = handle.readData(ofLength: 1 << 20)
                if chunk.isEmpty { atEnd = true } else { buffer = Data(buffer) + chunk }
            }
        }
    }
}
