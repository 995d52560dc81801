import ArgumentParser
import Foundation
import Store

/// The commands that let someone outside the site check the audit log: the public key, signed
/// checkpoints, inclusion and consistency proofs, and their verification (RFC 9162's model;
/// README "Checking the audit log from outside").
extension AuditCommand {
    /// `audit key`: the public half of the site's signing key.
    struct Key: SessionCommand {
        static let configuration = CommandConfiguration(
            commandName: "key",
            abstract: "Print (or write) the public key that verifies this site's signed checkpoints.",
            discussion: "PEM (SubjectPublicKeyInfo, RFC 8410): give it to auditors through a channel they trust. The private key stays beside the store (<store>.signing-key, 0600).")
        static var needsPatients: Bool { false }
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Write the PEM to this file.", valueName: "file")) var out: String?
        @Flag(help: "Print as JSON.") var json = false

        struct Shown: Encodable { var keyId: String; var algorithm = "Ed25519"; var pem: String; var file: String? }

        func run(in session: Session) throws {
            let key = session.store.signingKey.publicKey
            if let out { try AuditCommand.write(key.pem, to: out) }
            if json { try session.out.json(Shown(keyId: key.keyID, pem: key.pem, file: out)); return }
            if let out {
                session.out.print("Wrote the public key of log \(key.keyID) (Ed25519) to \(out).")
            } else {
                session.out.print(String(key.pem.dropLast()))
                session.out.print(session.out.dim("log \(key.keyID) · Ed25519 · private key \(session.store.signingKey.path)"))
            }
        }
    }

    /// `audit checkpoint`: sign the log as it is now.
    struct CheckpointNow: SessionCommand {
        static let configuration = CommandConfiguration(
            commandName: "checkpoint",
            abstract: "Sign a checkpoint of the log as it is now (size, Merkle root, time) and print it.",
            discussion: "An auditor keeps it: later, `audit prove --since FILE` shows the log still begins with what it signed. One is also written at the end of every session and every export.")
        static var needsPatients: Bool { false }
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Write the checkpoint (JSON) to this file.", valueName: "file")) var out: String?

        func run(in session: Session) throws {
            guard let c = try session.store.writeCheckpoint(reason: "requested") else { throw ValidationError("the audit log is empty: there is nothing to sign") }
            let text = try c.json()
            if let out {
                try AuditCommand.write(text + "\n", to: out)
                session.out.print("Wrote the checkpoint of \(c.size) entries (root \(c.root.prefix(16))…, \(c.time)) to \(out).")
            } else { session.out.print(text) }
        }
    }

    /// `audit prove`.
    struct Prove: SessionCommand {
        static let configuration = CommandConfiguration(
            commandName: "prove",
            abstract: "Print a proof an outside party checks with the public key: that a decision is in the log, or that the log extends a kept checkpoint.",
            discussion: """
                --decision ID: an RFC 9162 inclusion proof: the decision's record, its audit entry and the audit path to the root of a \
                checkpoint signed now. --since FILE: a consistency proof from the checkpoint in FILE (one an auditor kept: from \
                `audit checkpoint`, an earlier proof, or an export) to one signed now. Either way `audit verify-proof --file F \
                --public-key K` checks it without the log.
                """)
        static var needsPatients: Bool { false }
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The decision to prove (its id, from `history`).", valueName: "id")) var decision: String?
        @Option(help: ArgumentHelp("A checkpoint kept from before: prove the log still begins with it.", valueName: "file")) var since: String?
        @Option(help: ArgumentHelp("Write the proof to this file.", valueName: "file")) var out: String?

        func validate() throws {
            if (decision == nil) == (since == nil) { throw ValidationError("give --decision ID or --since CHECKPOINT_FILE (one of them)") }
        }

        func run(in session: Session) throws {
            try validate()
            let proof: AuditProof
            do {
                if let decision { proof = try session.store.proveDecision(decision) } else {
                    let file = since!
                    guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                    proof = try session.store.proveConsistency(from: Checkpoint.read(json: data, source: file))
                }
            } catch let e as StoreError { throw ValidationError(e.description) }
            try session.audit(.auditProved, action: "R", patient: nil,
                              detail: ["kind": proof.kind.rawValue, "tree_size": String(proof.checkpoint.size)].merging(decision.map { ["decision": $0] } ?? [:]) { a, _ in a })
            let text = try proof.json()
            if let out {
                try AuditCommand.write(text, to: out)
                session.out.print("Wrote the \(proof.kind.rawValue) proof under the checkpoint of \(proof.checkpoint.size) entries (\(proof.checkpoint.time)) to \(out).")
                session.out.print(session.out.dim("`rounds audit verify-proof --file \(out) --public-key KEY` checks it; `rounds audit key` gives KEY."))
            } else { session.out.print(String(text.dropLast())) }
        }
    }

    /// `audit verify-proof`: needs no store, no secret.
    struct VerifyProof: SessionCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-proof",
            abstract: "Check a proof from `audit prove` with the site's public key, offline.",
            discussion: "Checks the checkpoint's Ed25519 signature, then the inclusion path (a decision's entry and record, to the signed root) or the consistency proof (the earlier signed tree is where the later begins). Needs neither the store nor any secret. Exits with status 1 when the proof does not hold.")
        static var needsPatients: Bool { false }
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The proof (JSON).", valueName: "file")) var file: String
        @Option(help: ArgumentHelp("The site's public key (PEM, from `audit key`), obtained from the site.", valueName: "file")) var publicKey: String
        @Flag(help: "Print as JSON.") var json = false

        /// From the system shell: no store is opened.
        func run() throws { try check(Output()) }

        func run(in session: Session) throws { try check(session.out) }

        func check(_ out: Output) throws {
            let proof: AuditProof, key: SigningKey.PublicKey
            do { proof = try AuditProof.read(path: file); key = try SigningKey.PublicKey(file: publicKey) } catch let e as StoreError { throw ValidationError(e.description) }
            let v = proof.verify(with: key)
            if json { try out.json(v) } else if v.ok {
                switch proof.kind {
                case .inclusion:
                    out.print("✓ decision \(proof.decision ?? "") is entry #\(proof.leafIndex ?? 0) of the log that log \(key.keyID) signed at \(proof.checkpoint.time) (\(proof.checkpoint.size) entries); its record is the one the entry holds.")
                case .consistency:
                    out.print("✓ the log signed at \(proof.checkpoint.time) (\(proof.checkpoint.size) entries) begins with the \(proof.earlierCheckpoint?.size ?? 0) entries signed at \(proof.earlierCheckpoint?.time ?? ""): nothing before them was rewritten.")
                }
            } else {
                out.print(out.red(out.bold("✖ the proof does not hold.")))
                for p in v.problems { out.print(out.red("  " + p)) }
            }
            if !v.ok { throw ExitCode(1) }
        }
    }

    /// Writes a small text file (a key, a checkpoint, a proof) in place.
    static func write(_ text: String, to path: String) throws {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw ValidationError("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
