import Foundation
import JWTKit
import Yams

/// The claims of a CDS client's JWT (CDS Hooks 2.0 § Trusting CDS Clients): who signed it,
/// which endpoint it is for, when it expires, and a nonce against replay.
struct CDSClientClaims: JWTPayload {
    var iss: IssuerClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var jti: IDClaim
    var sub: SubjectClaim?
    var tenant: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Who called, once their token verified.
public struct ClientIdentity: Sendable {
    public var issuer: String
    public var name: String
}

/// The clients this service trusts, each with its public keys, read from a YAML file:
///
/// ```yaml
/// clients:
///   - iss: https://ehr.example.org        # the JWT's iss
///     name: Example EHR
///     jwks: ehr-example.jwks.json         # its public keys, a JWK Set (path relative to this file)
///   - iss: https://other-ehr.example.org
///     public_key: other-ehr.pub.pem       # or one EC public key (P-384 for ES384, P-256 for ES256) in PEM
/// ```
///
/// Every call must carry `Authorization: Bearer <JWT>` signed with one of its client's keys,
/// with `aud` the endpoint called, an `exp` in the future and a `jti` not seen before.
public actor ClientAuthenticator {
    struct Client {
        var name: String
        var keys: JWTKeyCollection
    }

    private let clients: [String: Client]
    /// Nonces seen, until their token expires.
    private var seen: [String: Date] = [:]
    private var nextSweep = Date.distantPast
    static let sweepInterval: TimeInterval = 10
    private let parser = JWTKeyCollection()

    public var issuers: [String] { clients.keys.sorted() }

    init(clients: [String: Client]) { self.clients = clients }

    /// Reads the trusted-clients file; an error names the file and what is wrong.
    public static func load(path: String) async throws -> ClientAuthenticator {
        let url = URL(fileURLWithPath: path)
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw CDSHooksError(500, "cannot read the trusted-clients file \(path): \(error.localizedDescription)")
        }
        struct File: Decodable {
            struct Entry: Decodable {
                var iss: String; var name: String?; var jwks: String?; var publicKey: String?
                enum CodingKeys: String, CodingKey { case iss, name, jwks, publicKey = "public_key" }
            }
            var clients: [Entry]
        }
        let file: File
        do { file = try YAMLDecoder().decode(File.self, from: text) } catch {
            throw CDSHooksError(500, "\(path): not a trusted-clients file (clients: [{iss, name, jwks}]): \(error)")
        }
        guard !file.clients.isEmpty else { throw CDSHooksError(500, "\(path): lists no clients, so no call could be trusted") }
        var clients: [String: Client] = [:]
        for (i, c) in file.clients.enumerated() {
            guard clients[c.iss] == nil else { throw CDSHooksError(500, "\(path): clients[\(i)]: iss '\(c.iss)' is listed twice") }
            func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : url.deletingLastPathComponent().appendingPathComponent(p).path }
            let keys = JWTKeyCollection()
            switch (c.jwks, c.publicKey) {
            case (let jwks?, nil):
                do { try await keys.add(jwksJSON: try String(contentsOf: URL(fileURLWithPath: resolve(jwks)), encoding: .utf8)) } catch {
                    throw CDSHooksError(500, "\(path): clients[\(i)] (\(c.iss)): cannot use the JWK Set \(resolve(jwks)): \(error)")
                }
            case (nil, let pem?):
                let text: String
                do { text = try String(contentsOf: URL(fileURLWithPath: resolve(pem)), encoding: .utf8) } catch {
                    throw CDSHooksError(500, "\(path): clients[\(i)] (\(c.iss)): cannot read \(resolve(pem)): \(error.localizedDescription)")
                }
                if let k = try? ES384PublicKey(pem: text) { await keys.add(ecdsa: k) }
                else if let k = try? ES256PublicKey(pem: text) { await keys.add(ecdsa: k) }
                else { throw CDSHooksError(500, "\(path): clients[\(i)] (\(c.iss)): \(resolve(pem)) is not an EC P-384 or P-256 public key in PEM") }
            default:
                throw CDSHooksError(500, "\(path): clients[\(i)] (\(c.iss)): give exactly one of jwks (a JWK Set file) and public_key (a PEM file)")
            }
            clients[c.iss] = Client(name: c.name ?? c.iss, keys: keys)
        }
        return ClientAuthenticator(clients: clients)
    }

    /// Verifies the bearer token of a call to `audience` (the endpoint's URL).
    func authenticate(authorization: String?, audience: String, now: Date = Date()) async throws -> ClientIdentity {
        guard let header = authorization, header.lowercased().hasPrefix("bearer ") else {
            throw CDSHooksError.unauthorized("no 'Authorization: Bearer <JWT>': CDS clients sign every call with a JWT (CDS Hooks 2.0, Trusting CDS Clients)")
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let unverified: CDSClientClaims
        do { unverified = try await parser.unverified(token, as: CDSClientClaims.self) } catch {
            throw CDSHooksError.unauthorized("the bearer token is not a JWT with iss, aud, exp, iat and jti")
        }
        guard let client = clients[unverified.iss.value] else {
            throw CDSHooksError.unauthorized("the token's issuer is not a trusted client of this service")
        }
        let claims: CDSClientClaims
        do { claims = try await client.keys.verify(token, as: CDSClientClaims.self, iteratingKeys: true) } catch let e as JWTError where e.errorType == .claimVerificationFailure {
            throw CDSHooksError.unauthorized("the token has expired")
        } catch {
            throw CDSHooksError.unauthorized("the token's signature does not verify against the keys of client '\(client.name)'")
        }
        do { try claims.aud.verifyIntendedAudience(includes: audience) } catch {
            throw CDSHooksError.unauthorized("the token's aud is not this endpoint (\(audience))")
        }
        // Forget expired nonces (a sweep at most every `sweepInterval`: filtering the whole
        // table on every call grew with the traffic), then refuse a replayed one. An expired
        // nonce left in the table a while counts as forgotten, as the filter made it.
        if now >= nextSweep {
            seen = seen.filter { $0.value > now }
            nextSweep = now.addingTimeInterval(Self.sweepInterval)
        }
        let nonce = claims.iss.value + " " + claims.jti.value
        guard (seen[nonce].map { $0 > now }) != true else { throw CDSHooksError.unauthorized("the token's jti was used before: a replayed token") }
        seen[nonce] = claims.exp.value
        return ClientIdentity(issuer: claims.iss.value, name: client.name)
    }
}
