import Foundation
import GRDB
import Testing
@testable import Store
import TestSupport

/// Signed checkpoints, inclusion and consistency proofs, and what an attacker who holds the
/// database (and even the keys) can and cannot hide from someone who kept a checkpoint.
@Suite struct AuditProofTests {
    /// Rewrites entry `seq`'s content as an attacker holding the database and both keys would:
    /// the chain from there on, the head and its MAC, and the tree are all made consistent again.
    func rewrite(_ f: AuditFixture, seq: Int, _ change: (String) -> String) throws {
        try DatabaseQueue(path: f.path).write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT seq, content, prev_hash FROM audit WHERE seq >= ? ORDER BY seq", arguments: [seq])
            var previous: String = rows[0]["prev_hash"]
            for r in rows {
                let s: Int = r["seq"]
                var content: String = r["content"]
                if s == seq { content = change(content) }
                let ch = Digest.sha256(content), h = Digest.link(previous: previous, content: ch)!
                let e = try AuditEntry.parse(content)
                try db.execute(sql: "UPDATE audit SET content = ?, content_hash = ?, prev_hash = ?, hash = ?, event = ?, patient_id = ? WHERE seq = ?",
                               arguments: [content, ch, previous, h, e.event.rawValue, e.patient, s])
                previous = h
            }
            let last: Int = rows.last!["seq"]
            try db.execute(sql: "UPDATE audit_head SET hash = ?, mac = ?", arguments: [previous, f.store.siteKey.mac(RoundsStore.headMessage(seq: last, hash: previous))])
            try AuditTree.rebuild(db)
        }
    }

    func write(_ text: String) -> String { TestSupport.write(text, name: "f.json") }

    @Test func keyFilesArePrivateAndThePublicKeyRoundTrips() throws {
        let f = try AuditFixture(entries: 1)
        for p in [SiteKey.path(forStore: f.path), SigningKey.path(forStore: f.path)] {
            let mode = try FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(p) has mode \(String(mode ?? 0, radix: 8))")
            #expect(try Data(contentsOf: URL(fileURLWithPath: p)).count == 32)
        }
        let key = f.store.signingKey.publicKey
        #expect(try SigningKey.PublicKey(text: key.pem) == key)
        #expect(try SigningKey.PublicKey(text: key.raw.base64EncodedString()) == key)
        #expect(throws: StoreError.self) { try SigningKey.PublicKey(text: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n") }
        // The same key after reopening; a second store has another.
        #expect(try RoundsStore(path: f.path).signingKey.publicKey == key)
        #expect(try AuditFixture(entries: 1).store.signingKey.publicKey != key)
    }

    @Test func checkpointsAreSignedAndVerified() throws {
        let f = try AuditFixture()
        let c = try #require(try f.store.writeCheckpoint(reason: "test"))
        #expect(c.size == 12 && c.problem(with: f.store.signingKey.publicKey) == nil)
        // Nothing new: the same checkpoint.
        #expect(try f.store.writeCheckpoint(reason: "test") == c)
        try f.store.append(AuditFixture.entry(.patientOpened, patient: "pt-9"))
        let d = try #require(try f.store.writeCheckpoint(reason: "test"))
        #expect(d.size == 13)
        let v = try f.store.verifyAudit()
        #expect(v.ok && v.checkpoints == 2 && v.signaturesChecked && v.treeRoot == d.root, "\(v.problems)")
        // Another site's key does not verify it, and any change to a signed field breaks it.
        let other = try AuditFixture(entries: 1).store.signingKey.publicKey
        #expect(c.problem(with: other) != nil)
        var forged = c; forged.size = 11
        #expect(forged.problem(with: f.store.signingKey.publicKey) != nil)
        forged = c; forged.time = "2026-01-01T00:00:00.000Z"
        #expect(forged.problem(with: f.store.signingKey.publicKey) != nil)
    }

    @Test func aForgedCheckpointInTheStoreIsCaught() throws {
        let f = try AuditFixture()
        try f.store.writeCheckpoint(reason: "test")
        let other = try AuditFixture(entries: 0)
        let root = try f.store.checkpoints()[0].root
        let cases = [
            "UPDATE audit_checkpoint SET root = '\(String(repeating: "ab", count: 32))'",
            "UPDATE audit_checkpoint SET size = 11",
            "UPDATE audit_checkpoint SET signature = '\(Data(repeating: 7, count: 64).base64EncodedString())'",
        ]
        for sql in cases {
            let t = try f.copy()
            try t.tamper(sql)
            let v = try t.store.verifyAudit()
            #expect(v.problems.first?.kind == .checkpoint, "\(sql): \(v.problems)")
        }
        // A checkpoint with the right root signed by another key.
        let t = try f.copy()
        let forged = try Checkpoint.sign(size: 12, root: MerkleHash(hex: root)!, time: "2026-12-01T00:00:00.000Z", key: other.store.signingKey)
        try t.tamper("INSERT INTO audit_checkpoint (size, root, time, log, signature, reason) VALUES (?, ?, ?, ?, ?, 'x')",
                     [forged.size, forged.root, forged.time, forged.log, forged.signature])
        #expect(try t.store.verifyAudit().problems.first?.kind == .checkpoint)
        // A saved tree node changed: proofs would fail, and verify says so.
        let n = try f.copy()
        try n.tamper("UPDATE audit_tree SET hash = zeroblob(32) WHERE pos = 3")
        let nv = try n.store.verifyAudit(); #expect(nv.problems.first?.kind == .tree, "\(nv.problems) \(nv.checkpoints)")
        let m = try f.copy()
        try m.tamper("DELETE FROM audit_tree WHERE pos = (SELECT max(pos) FROM audit_tree)")
        #expect(try m.store.verifyAudit().problems.first?.kind == .tree)
    }

    @Test func aRewrittenPrefixUnderANewCheckpointIsCaught() throws {
        let f = try AuditFixture()
        let kept = try #require(try f.store.writeCheckpoint(reason: "auditor"))
        let key = f.store.signingKey.publicKey
        // The attacker rewrites entry 2 (with every key), logs on, and signs a new checkpoint.
        try rewrite(f, seq: 2) { $0.replacingOccurrences(of: "\"pt-2\"", with: "\"pt-7\"") }
        try f.store.append(AuditFixture.entry(.patientOpened, patient: "pt-1"))
        let later = try #require(try f.store.writeCheckpoint(reason: "attacker"))
        #expect(later.problem(with: key) == nil)
        // The store still holds the earlier checkpoint, which no longer matches.
        var v = try f.store.verifyAudit()
        #expect(v.problems.first?.kind == .checkpoint && v.problems.first?.message.contains("rewritten") == true, "\(v.problems)")
        // Even with the earlier checkpoints deleted, the auditor's kept one exposes it.
        try f.tamper("DELETE FROM audit_checkpoint WHERE size <= ?", [kept.size])
        v = try f.store.verifyAudit()
        #expect(v.ok, "an attacker with every key can make the store consistent: \(v.problems)")
        let proof = try f.store.proveConsistency(from: kept)
        let checked = proof.verify(with: key)
        #expect(!checked.ok && checked.problems[0].contains("rewritten"), "\(checked.problems)")
        let export = TestSupport.temporaryDirectory().appendingPathComponent("a.jsonl").path
        _ = try f.store.exportAudit(AuditExportOptions(format: .jsonl), to: export, exportedAt: "2026-12-01T00:00:00.000Z")
        let file = try AuditFileVerifier.verify(path: export, publicKey: key, trusted: kept)
        #expect(file.problems.first?.kind == .checkpoint && file.problems.first?.message.contains("your checkpoint") == true, "\(file.problems)")
        #expect(try AuditFileVerifier.verify(path: export, publicKey: key).ok)
    }

    @Test func anHonestLogIsConsistentWithEveryKeptCheckpoint() throws {
        let f = try AuditFixture(entries: 0)
        var kept: [Checkpoint] = []
        for i in 0..<37 {
            try f.store.append(AuditFixture.entry(.patientOpened, patient: "pt-\(i)"))
            if i % 5 == 0 { kept.append(try #require(try f.store.writeCheckpoint(reason: "test"))) }
        }
        let key = f.store.signingKey.publicKey
        for c in kept {
            let proof = try f.store.proveConsistency(from: c)
            let v = proof.verify(with: key)
            #expect(v.ok && proof.checkpoint.size == 37, "from \(c.size): \(v.problems)")
            // Round trip through the file form.
            let back = try AuditProof.read(path: write(try proof.json()))
            #expect(back == proof)
        }
        let v = try f.store.verifyAudit()
        #expect(v.ok && v.checkpoints == kept.count + 1, "\(v.problems)")
        // A checkpoint bigger than the log: entries were removed.
        var big = kept[0]; big.size = 99
        #expect(throws: StoreError.self) { try f.store.proveConsistency(from: big) }
    }

    @Test func aDecisionsInclusionProofChecksOutsideTheStore() throws {
        let f = try AuditFixture()
        let decision = try f.store.allDecisions()[1]
        let proof = try f.store.proveDecision(decision.id)
        let key = f.store.signingKey.publicKey
        let file = write(try proof.json())
        let back = try AuditProof.read(path: file)
        #expect(back == proof)
        let v = back.verify(with: key)
        #expect(v.ok && v.decision == decision.id && v.treeSize == 12, "\(v.problems)")
        #expect(!back.verify(with: try AuditFixture(entries: 1).store.signingKey.publicKey).ok)
        // Any change to what it proves fails.
        var p = back; p.decisionRecord = p.decisionRecord!.replacingOccurrences(of: "\"chosen\":\"sglt2\"", with: "\"chosen\":\"insulin\"")
        #expect(!p.verify(with: key).ok)
        p = back; p.entry = p.entry!.replacingOccurrences(of: "dr-lee", with: "dr-lea")
        #expect(!p.verify(with: key).ok)
        p = back; p.leafIndex = p.leafIndex! - 1
        #expect(!p.verify(with: key).ok)
        p = back; p.path[0] = String(repeating: "0", count: 64)
        #expect(!p.verify(with: key).ok)
        p = back; p.path.removeLast()
        #expect(!p.verify(with: key).ok)
        p = back; p.checkpoint.size += 1
        #expect(!p.verify(with: key).ok)
        // Unknown decisions are refused.
        #expect(throws: StoreError.self) { try f.store.proveDecision("no-such-decision") }
    }

    @Test func aProofForADecisionThatWasRemoved() throws {
        let f = try AuditFixture()
        let key = f.store.signingKey.publicKey
        let decision = try f.store.allDecisions()[0]
        let proof = try f.store.proveDecision(decision.id)
        #expect(proof.verify(with: key).ok)
        let seq = try #require(proof.leafIndex)
        // Removing the decision row alone: nothing to prove, and verify names it.
        let t = try f.copy()
        try t.tamper("DELETE FROM decision WHERE id = ?", [decision.id])
        let error = #expect(throws: StoreError.self) { try t.store.proveDecision(decision.id) }
        #expect(error?.description.contains("removed") == true, "\(String(describing: error))")
        let tv = try t.store.verifyAudit(); #expect(tv.problems.first?.kind == .decision, "\(tv.problems)")
        // Removing it from the log as well, as an attacker with every key: the entry is rewritten
        // into a harmless one, the tree rebuilt, the old checkpoints deleted, a new one signed.
        try f.tamper("DELETE FROM decision WHERE id = ?", [decision.id])
        try rewrite(f, seq: seq) { _ in
            (try? AuditEntry(seq: seq, recorded: AuditEntry.parse(proof.entry!).recorded, event: .patientOpened, action: "R", clinician: "dr-lee", role: "physician",
                             user: "alice", patient: "pt-3", session: "s-1").canonical()) ?? ""
        }
        try f.tamper("DELETE FROM audit_checkpoint")
        try f.store.append(AuditFixture.entry(.patientOpened, patient: "pt-1"))
        let now = try #require(try f.store.writeCheckpoint(reason: "attacker"))
        #expect(try f.store.verifyAudit().ok)
        #expect(throws: StoreError.self) { try f.store.proveDecision(decision.id) }
        // The old proof still holds for the checkpoint it was made under: the site signed a log
        // with that decision in it. Moved under the new checkpoint it fails, and the new log
        // is not consistent with the old checkpoint.
        #expect(proof.verify(with: key).ok)
        var moved = proof; moved.checkpoint = now
        #expect(!moved.verify(with: key).ok)
        #expect(!(try f.store.proveConsistency(from: proof.checkpoint)).verify(with: key).ok)
    }

    @Test func exportsCarryCheckpointsThatVerifyWithThePublicKeyOnly() throws {
        let f = try AuditFixture()
        try f.store.writeCheckpoint(reason: "test")
        try f.store.append(AuditFixture.entry(.patientOpened, patient: "pt-1"))
        let dir = TestSupport.temporaryDirectory()
        let path = dir.appendingPathComponent("a.jsonl").path
        let s = try f.store.exportAudit(AuditExportOptions(format: .jsonl), to: path, exportedAt: "2026-12-01T00:00:00.000Z")
        #expect(s.checkpoints == 2)
        let key = f.store.signingKey.publicKey
        let v = try AuditFileVerifier.verify(path: path, publicKey: key)
        #expect(v.ok && v.checkpoints == 2 && v.signaturesChecked && v.latestCheckpoint?.size == 13, "\(v.problems)")
        let unsigned = try AuditFileVerifier.verify(path: path)
        #expect(unsigned.ok && !unsigned.signaturesChecked && unsigned.notes.contains { $0.contains("--public-key") })
        #expect(try AuditFileVerifier.verify(path: path, publicKey: try AuditFixture(entries: 1).store.signingKey.publicKey).problems.first?.kind == .checkpoint)
        // A checkpoint line changed (size, root) or another site's checkpoint inserted.
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let i = try #require(lines.firstIndex { $0.hasPrefix(#"{"checkpoint":"#) })
        for changed in [lines[i].replacingOccurrences(of: "\"size\":12", with: "\"size\":11"),
                        lines[i].replacingOccurrences(of: "\"root\":\"", with: "\"root\":\"0")] {
            var l = lines; l[i] = changed
            let p = TestSupport.write(l.joined(separator: "\n") + "\n", name: "t.jsonl", in: dir)
            #expect(!(try AuditFileVerifier.verify(path: p, publicKey: key)).ok, "\(changed)")
        }
        // A filtered export has nothing signed to check.
        let filtered = dir.appendingPathComponent("f.jsonl").path
        _ = try f.store.exportAudit(AuditExportOptions(format: .jsonl, patient: "pt-1"), to: filtered, exportedAt: "2026-12-01T00:00:00.000Z")
        #expect(try AuditFileVerifier.verify(path: filtered).ok)
        #expect(try AuditFileVerifier.verify(path: filtered, publicKey: key).problems.first?.kind == .format)
    }

    @Test func opensslVerifiesACheckpointWithNothingButThePublicKey() throws {
        let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let openssl else { return }
        let f = try AuditFixture()
        let c = try #require(try f.store.writeCheckpoint(reason: "test"))
        let dir = TestSupport.temporaryDirectory()
        let key = TestSupport.write(f.store.signingKey.publicKey.pem, name: "k.pem", in: dir)
        let note = TestSupport.write(c.signedText, name: "note.txt", in: dir)
        let sig = dir.appendingPathComponent("sig.bin")
        func verify() throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: openssl)
            p.arguments = ["pkeyutl", "-verify", "-pubin", "-inkey", key, "-rawin", "-in", note, "-sigfile", sig.path]
            p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
            try p.run(); p.waitUntilExit()
            return p.terminationStatus
        }
        try Data(base64Encoded: c.signature)!.write(to: sig)
        #expect(try verify() == 0)
        var forged = Data(base64Encoded: c.signature)!; forged[0] ^= 1
        try forged.write(to: sig)
        #expect(try verify() != 0)
    }

    /// The fast path of `verifyAudit` (FastChainScan) takes an intact log whole, escapes and
    /// non-ASCII text in details included; the tampering tests show it never passes a broken one.
    @Test func theFastPathTakesAnIntactLogWhole() throws {
        let f = try AuditFixture()
        try f.store.append(AuditFixture.entry(.patientOpened, patient: "pt-1", detail: ["note": "ünïcødé \"quoted\" \\ tab\t", "file": "a/b.json"]))
        try f.store.writeCheckpoint(reason: "test")
        let result = try f.store.pool.read { db -> FastChainScan.Result? in
            var tree = TreeChecker(checkpoints: try RoundsStore.checkpoints(db).map { ($0, false) }, key: f.store.signingKey.publicKey)
            let r = try FastChainScan.run(db, tree: &tree)
            #expect(tree.matched == 1)
            return r
        }
        #expect(result?.entries == 13 && result?.lastSeq == 12)
        let fast = try f.store.verifyAudit(), slow = try f.store.verifyAudit(fastPath: false)
        #expect(fast.ok && slow.ok && fast.entries == slow.entries && fast.treeRoot == slow.treeRoot && fast.headHash == slow.headHash && fast.checkpoints == slow.checkpoints)
    }

    @Test func anOlderStoreGetsItsTreeAndKeepsItsChain() throws {
        let f = try AuditFixture()
        let expected = try f.store.writeCheckpoint(reason: "test")!.root
        // The store as the previous release left it: no tree, no checkpoints, no migration v5.
        try f.tamper("DROP TABLE audit_tree")
        try f.tamper("DROP TABLE audit_checkpoint")
        try f.tamper("DELETE FROM grdb_migrations WHERE identifier = 'v5-audit-merkle'")
        let reopened = try RoundsStore(path: f.path)
        #expect(try reopened.appliedMigrations().contains("v5-audit-merkle"))
        let v = try reopened.verifyAudit()
        #expect(v.ok && v.headAuthenticated && v.decisions == 2 && v.treeRoot == expected && v.checkpoints == 0, "\(v.problems)")
        #expect(try reopened.writeCheckpoint(reason: "test")?.root == expected)
    }
}
