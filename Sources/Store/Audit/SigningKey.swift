import Crypto
import Foundation

/// The site's Ed25519 signing key: the 32-byte private seed in a 0600 file beside the store
/// (`<store>.signing-key`), made on first use. It signs the audit log's checkpoints, so that
/// anyone holding only the public key (`rounds audit key`) can check an export or a proof, and
/// holding that public key lets no one sign.
public struct SigningKey: Sendable {
    public let path: String
    /// The private key's 32-byte seed (kept as bytes: swift-crypto's key types are not Sendable).
    let seed: Data
    public let publicKey: PublicKey

    public static func path(forStore storePath: String) -> String { storePath + ".signing-key" }

    public static func openOrCreate(path: String) throws -> SigningKey {
        let seed = try KeyFile.openOrCreate(path: path, what: "signing key") { Curve25519.Signing.PrivateKey().rawRepresentation }
        do { return SigningKey(path: path, seed: seed, publicKey: PublicKey(checked: try Curve25519.Signing.PrivateKey(rawRepresentation: seed).publicKey.rawRepresentation)) } catch {
            throw StoreError.corrupt("the signing key \(path) is not an Ed25519 key: \(error)")
        }
    }

    /// Ed25519 over the UTF-8 bytes of `message`.
    func sign(_ message: String) throws -> Data { try Curve25519.Signing.PrivateKey(rawRepresentation: seed).signature(for: Data(message.utf8)) }

    /// An Ed25519 public key, read and written as PEM (SubjectPublicKeyInfo, RFC 8410), which
    /// `openssl pkey -pubin` reads too.
    public struct PublicKey: Sendable, Equatable {
        /// The 32 raw bytes (RFC 8032).
        public let raw: Data

        /// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4): SEQUENCE { SEQUENCE
        /// { OID 1.3.101.112 }, BIT STRING (32 bytes) }.
        static let spkiPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]

        public init(raw: Data) throws {
            do { _ = try Curve25519.Signing.PublicKey(rawRepresentation: raw) } catch { throw StoreError.invalid("not an Ed25519 public key: \(error)") }
            self.raw = raw
        }
        init(checked raw: Data) { self.raw = raw }

        /// The log's name in its checkpoints: the first 16 hex digits of SHA-256 of the raw key.
        public var keyID: String { String(Digest.sha256(raw).prefix(16)) }

        public var pem: String {
            let der = Data(Self.spkiPrefix) + raw
            let b64 = der.base64EncodedString()
            return "-----BEGIN PUBLIC KEY-----\n\(b64)\n-----END PUBLIC KEY-----\n"
        }

        /// From PEM (as `pem` writes it, or as openssl does), or from the bare base64 of the 32 raw bytes.
        public init(text: String) throws {
            let body = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("-----") }.joined()
            guard let data = Data(base64Encoded: body) else { throw StoreError.invalid("not a public key: neither PEM nor base64") }
            if data.count == 32 { try self.init(raw: data); return }
            guard data.count == 44, Array(data.prefix(12)) == Self.spkiPrefix else {
                throw StoreError.invalid("not an Ed25519 public key (expected the 44-byte SubjectPublicKeyInfo of RFC 8410)")
            }
            try self.init(raw: data.suffix(32))
        }

        /// Reads a key file written by `rounds audit key --out`.
        public init(file: String) throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw StoreError.notFound("cannot read the public key \(file)") }
            do { try self.init(text: String(decoding: data, as: UTF8.self)) } catch let e as StoreError { throw StoreError.invalid("\(file): \(e.description)") }
        }

        public func isValid(signature: Data, for message: String) -> Bool {
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
            return key.isValidSignature(signature, for: Data(message.utf8))
        }
    }
}
