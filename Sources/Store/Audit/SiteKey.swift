import Crypto
import Foundation

/// The site's secret: 32 random bytes in a 0600 file beside the store. It keys the MAC on the
/// audit chain's head (so that rewriting the whole chain needs the key as well as the database)
/// and the HMAC pseudonyms of exports (so that a pseudonym cannot be reversed by trying ids).
public struct SiteKey: Sendable {
    public let path: String
    let bytes: Data

    /// The key file for the store at `storePath`.
    public static func path(forStore storePath: String) -> String { storePath + ".site-key" }

    /// Reads the key, creating it first if there is none (see `KeyFile`).
    public static func openOrCreate(path: String) throws -> SiteKey {
        SiteKey(path: path, bytes: try KeyFile.openOrCreate(path: path, what: "site key") { SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) } })
    }

    /// HMAC-SHA256 of `message`, hex.
    public func mac(_ message: String) -> String {
        Digest.hex(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: bytes)))
    }
}

/// SHA-256 helpers: hex strings, as the audit log stores them.
public enum Digest {
    public static func sha256(_ s: String) -> String { hex(SHA256.hash(data: Data(s.utf8))) }
    public static func sha256(_ d: Data) -> String { hex(SHA256.hash(data: d)) }
    public static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](); out.reserveCapacity(64)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
    public static func hex(_ d: some Crypto.Digest) -> String { hex(d.makeIterator()) }
    public static func hex(_ m: HashedAuthenticationCode<SHA256>) -> String { m.withUnsafeBytes { hex($0) } }

    /// The chain link: SHA-256 over the two raw 32-byte digests, `previous ‖ content`.
    public static func link(previous: String, content: String) -> String? {
        guard let p = bytes(hex: previous), let c = bytes(hex: content), p.count == 32, c.count == 32 else { return nil }
        return hex(SHA256.hash(data: Data(p + c)))
    }

    static func bytes(hex: String) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out = [UInt8](); out.reserveCapacity(u.count / 2)
        func v(_ c: UInt8) -> UInt8? {
            switch c { case 48...57: return c - 48; case 97...102: return c - 87; default: return nil }
        }
        var i = 0
        while i < u.count { guard let a = v(u[i]), let b = v(u[i + 1]) else { return nil }; out.append(a << 4 | b); i += 2 }
        return out
    }

    /// The chain's first `prev_hash`.
    public static let genesis = String(repeating: "0", count: 64)
}
