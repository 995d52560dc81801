import Foundation

/// A signed tree head (RFC 9162 §4.10's idea, in the text form of a transparency-log checkpoint):
/// the log's size, the Merkle root of its first `size` entries and the time, signed with the
/// site's Ed25519 key. Whoever keeps one can later check that the log still begins with exactly
/// those entries (a consistency proof), and that a given entry is among them (an inclusion proof).
public struct Checkpoint: Codable, Sendable, Equatable {
    /// The log's name: the signing key's id (`SigningKey.PublicKey.keyID`).
    public var log: String
    public var size: Int
    /// MTH of the first `size` entries, hex.
    public var root: String
    /// RFC 3339 UTC with milliseconds.
    public var time: String
    /// Ed25519 over `signedText`, base64.
    public var signature: String

    public static let format = "rounds-audit-checkpoint/1"

    /// The bytes that are signed: one field a line, so that `openssl pkeyutl -verify -rawin`
    /// checks a checkpoint with nothing but this text, the signature and the public key.
    public var signedText: String { "\(Self.format)\n\(log)\n\(size)\n\(root)\n\(time)\n" }

    public static func sign(size: Int, root: MerkleHash, time: String, key: SigningKey) throws -> Checkpoint {
        var c = Checkpoint(log: key.publicKey.keyID, size: size, root: root.hex, time: time, signature: "")
        c.signature = try key.sign(c.signedText).base64EncodedString()
        return c
    }

    public var rootHash: MerkleHash? { MerkleHash(hex: root) }

    /// Nil when `key` signed exactly this checkpoint; otherwise what is wrong with it.
    public func problem(with key: SigningKey.PublicKey) -> String? {
        if log != key.keyID { return "it names log \(log), but the public key given is log \(key.keyID)" }
        guard rootHash != nil, size >= 0 else { return "its root or size is malformed" }
        guard let sig = Data(base64Encoded: signature), key.isValid(signature: sig, for: signedText) else {
            return "its signature does not verify with the public key: it was forged or altered"
        }
        return nil
    }

    /// One line of JSON, keys sorted.
    public func json() throws -> String { try CanonicalJSON.string(self) }

    /// Reads a checkpoint from JSON: a checkpoint itself, or any Rounds proof file (its newest checkpoint).
    public static func read(json data: Data, source: String) throws -> Checkpoint {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        if let c = try? decoder.decode(Checkpoint.self, from: data) { return c }
        if let p = try? decoder.decode(AuditProof.self, from: data) { return p.checkpoint }
        throw StoreError.invalid("\(source) holds no Rounds audit checkpoint")
    }
}
