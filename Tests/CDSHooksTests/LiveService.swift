import AsyncHTTPClient
import CDSHooks
import Foundation
import JWTKit
import NIOCore
import NIOHTTP1
import Review
import Store
import TestSupport

/// The real service, started on 127.0.0.1 at a free port with a fresh store and one trusted
/// client whose ES384 key the test holds, driven over HTTP by AsyncHTTPClient.
final class LiveService: Sendable {
    let port: Int
    let db: String
    let clientsFile: String
    let iss = "https://ehr.test.example"
    let signer: JWTKeyCollection
    let task: Task<Void, any Error>
    var base: String { "http://127.0.0.1:\(port)" }

    struct Claims: JWTPayload {
        var iss: IssuerClaim; var aud: AudienceClaim; var exp: ExpirationClaim; var iat: IssuedAtClaim; var jti: IDClaim
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    private init(port: Int, db: String, clientsFile: String, signer: JWTKeyCollection, task: Task<Void, any Error>) {
        self.port = port; self.db = db; self.clientsFile = clientsFile; self.signer = signer; self.task = task
    }

    /// Writes the trusted-clients file and its JWK Set beside a fresh store, and starts the server.
    static func start(maxBodyBytes: Int = CDSHooksService.defaultMaxBodyBytes, clock: @escaping @Sendable () -> Date = { Date() }) async throws -> LiveService {
        let dir = TestSupport.temporaryDirectory("rounds-cds")
        let key = ES384PrivateKey()
        let p = key.publicKey.parameters!
        let jwks = #"{"keys":[{"kty":"EC","crv":"P-384","kid":"ehr-test-1","alg":"ES384","use":"sig","x":"\#(p.x)","y":"\#(p.y)"}]}"#
        try jwks.write(to: dir.appendingPathComponent("ehr.jwks.json"), atomically: true, encoding: .utf8)
        let clients = dir.appendingPathComponent("cds-clients.yaml").path
        try "clients:\n  - iss: https://ehr.test.example\n    name: Test EHR\n    jwks: ehr.jwks.json\n".write(toFile: clients, atomically: true, encoding: .utf8)
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: key, kid: "ehr-test-1")
        let db = dir.appendingPathComponent("rounds.sqlite").path
        let workspace = Workspace(pack: TestSupport.pack, store: try RoundsStore(path: db))
        let service = CDSHooksService(workspace: workspace, authenticator: try await ClientAuthenticator.load(path: clients), maxBodyBytes: maxBodyBytes, clock: clock)
        let bound = PortBox()
        let task = Task { try await CDSHooksServer(service: service, host: "127.0.0.1", port: 0).run { port in bound.set(port) } }
        for _ in 0..<3000 where bound.get() == nil { try await Task.sleep(for: .milliseconds(10)) }
        guard let port = bound.get() else { task.cancel(); throw CDSHooksError(500, "the server did not start") }
        return LiveService(port: port, db: db, clientsFile: clients, signer: signer, task: task)
    }

    func stop() async { task.cancel(); _ = await task.result }

    /// A token for `path` as the client signs it (CDS Hooks 2.0 § Trusting CDS Clients).
    func token(_ path: String, expiresIn: TimeInterval = 300, aud: String? = nil, jti: String = UUID().uuidString, with other: JWTKeyCollection? = nil) async throws -> String {
        let now = Date()
        let claims = Claims(iss: .init(value: iss), aud: .init(value: [aud ?? base + path]), exp: .init(value: now.addingTimeInterval(expiresIn)),
                            iat: .init(value: now), jti: .init(value: jti))
        return try await (other ?? signer).sign(claims, kid: "ehr-test-1")
    }

    struct Reply { var status: Int; var json: Any?; var text: String; var headers: HTTPHeaders = [:] }

    /// One call; `token: nil` sends no Authorization header, `.some` sends it, default signs a fresh one.
    func call(_ method: HTTPMethod, _ path: String, body: Data? = nil, token: String?? = .none) async throws -> Reply {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        let t: String?
        switch token { case .none: t = try await self.token(path); case .some(let given): t = given }
        if let t { request.headers.add(name: "Authorization", value: "Bearer " + t) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        // Generous: a debug build on two busy cores, beside the other suites, once took over a
        // minute for one patient-view; this bounds a hang, it times nothing.
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(300))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let data = Data(bytes.readableBytesView)
        return Reply(status: Int(response.status.code), json: try? JSONSerialization.jsonObject(with: data), text: String(decoding: data, as: UTF8.self), headers: response.headers)
    }

    func post(_ path: String, _ object: Any, token: String?? = .none) async throws -> Reply {
        try await call(.POST, path, body: try JSONSerialization.data(withJSONObject: object), token: token)
    }
}

/// A clock the test moves: report links expire without the test waiting.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now = Date()
    func advance(_ seconds: TimeInterval) { lock.withLock { now = now.addingTimeInterval(seconds) } }
    func read() -> Date { lock.withLock { now } }
}

final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?
    func set(_ p: Int) { lock.withLock { port = p } }
    func get() -> Int? { lock.withLock { port } }
}

/// Hook requests whose prefetch is a real Synthea bundle as a FHIR server answers the
/// discovery document's templates.
enum HookFixture {
    static func data(_ file: String) throws -> Data { try Data(contentsOf: TestSupport.fixtures.appendingPathComponent(file)) }

    static func searchset(_ entries: [[String: Any]]) -> [String: Any] {
        ["resourceType": "Bundle", "type": "searchset", "total": entries.count, "entry": entries]
    }

    static func request(hook: String = "patient-view", file: String, user: String = "Practitioner/dr-ehr-1", extraContext: [String: Any] = [:]) throws -> [String: Any] {
        try PrefetchBuilder.hookRequest(hook: hook, transaction: try data(file), pack: TestSupport.pack, userId: user, context: extraContext)
    }
}
