// Load test of the CDS Hooks service on loopback: the real server (CDSHooksServer) on
// 127.0.0.1, a fresh store, one trusted client, and AsyncHTTPClient workers that each sign a
// fresh token per call. Measures patient-view at several concurrencies and feedback, counts
// errors, and verifies the audit chain afterwards. Release build:
//   swift run -c release rounds-cds-load [--seconds 10] [--levels 1,8,32] [--feedback 400]
//   swift run -c release rounds-cds-load --direct 200     (the service's CPU per call, no HTTP)
import AsyncHTTPClient
import CDSHooks
import CKernels
import Foundation
import JWTKit
import NIOCore
import Patients
import Review
import Store

// The model's working buffers come from the heap, not fresh pages, as in `rounds` (CKernels.h).
rk_keep_buffers_in_heap()

struct Claims: JWTPayload {
    var iss: IssuerClaim; var aud: AudienceClaim; var exp: ExpirationClaim; var iat: IssuedAtClaim; var jti: IDClaim
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

final class Box: @unchecked Sendable {
    let lock = NSLock()
    var port: Int?
    var latencies: [Double] = []
    var errors = 0
}

func argument(_ name: String, _ fallback: String) -> String {
    let a = CommandLine.arguments
    return a.firstIndex(of: name).flatMap { a.index(after: $0) < a.endIndex ? a[a.index(after: $0)] : nil } ?? fallback
}

let seconds = Double(argument("--seconds", "10"))!
let levels = argument("--levels", "1,8,32").split(separator: ",").map { Int($0)! }
let feedbackCount = Int(argument("--feedback", "400"))!
let pack = try KnowledgePack(directory: KnowledgePack.locate(explicit: nil))
let fixture = argument("--fixture", pack.directory.deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("shared/fixtures/fhir/Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json").path)

let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("rounds-cds-load-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: dir) }
let key = ES384PrivateKey()
let p = key.publicKey.parameters!
try #"{"keys":[{"kty":"EC","crv":"P-384","kid":"load-1","alg":"ES384","x":"\#(p.x)","y":"\#(p.y)"}]}"#.write(to: dir.appendingPathComponent("c.jwks.json"), atomically: true, encoding: .utf8)
try "clients:\n  - iss: https://load.test\n    jwks: c.jwks.json\n".write(to: dir.appendingPathComponent("clients.yaml"), atomically: true, encoding: .utf8)
let signer = JWTKeyCollection()
await signer.add(ecdsa: key, kid: "load-1")

let store = try RoundsStore(path: dir.appendingPathComponent("rounds.sqlite").path)
let service = CDSHooksService(workspace: Workspace(pack: pack, store: store),
                              authenticator: try await ClientAuthenticator.load(path: dir.appendingPathComponent("clients.yaml").path))
let box = Box()
let server = Task { try await CDSHooksServer(service: service, host: "127.0.0.1", port: 0).run { port in box.lock.withLock { box.port = port } } }
while box.lock.withLock({ box.port }) == nil { try await Task.sleep(for: .milliseconds(20)) }
let base = "http://127.0.0.1:\(box.port!)"

// The body: the fixture's prefetch, serialized once; each call gets its own hookInstance.
var request = try PrefetchBuilder.hookRequest(transaction: Data(contentsOf: URL(fileURLWithPath: fixture)), pack: pack, userId: "Practitioner/dr-load")
request["hookInstance"] = "HOOK-INSTANCE-PLACEHOLDER"
let template = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
let parts = template.components(separatedBy: "HOOK-INSTANCE-PLACEHOLDER")
let pv = "/cds-services/rounds-t2d-patient-view"

func call(_ path: String, _ body: String) async throws -> (status: Int, body: Data) {
    let now = Date()
    let token = try await signer.sign(Claims(iss: "https://load.test", aud: .init(value: [base + path]), exp: .init(value: now + 300), iat: .init(value: now), jti: .init(value: UUID().uuidString)))
    var r = HTTPClientRequest(url: base + path)
    r.method = .POST
    r.headers.add(name: "Authorization", value: "Bearer " + token)
    r.headers.add(name: "Content-Type", value: "application/json")
    r.body = .bytes(ByteBuffer(string: body))
    let response = try await HTTPClient.shared.execute(r, timeout: .seconds(60))
    return (Int(response.status.code), Data(try await response.body.collect(upTo: 16 << 20).readableBytesView))
}

func pct(_ sorted: [Double], _ q: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)] }

/// `clients` workers calling back to back for `seconds` or until `body` gives nil.
func run(clients: Int, seconds: Double, _ body: @escaping @Sendable () -> (String, String)?) async -> (n: Int, errors: Int, rps: Double, p50: Double, p99: Double) {
    let results = Box()
    let start = Date()
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<clients {
            group.addTask {
                while Date().timeIntervalSince(start) < seconds, let (path, b) = body() {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let ok = ((try? await call(path, b))?.status ?? 0) == 200
                    let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
                    results.lock.withLock { results.latencies.append(ms); if !ok { results.errors += 1 } }
                }
            }
        }
    }
    let elapsed = Date().timeIntervalSince(start)
    let sorted = results.latencies.sorted()
    return (sorted.count, results.errors, Double(sorted.count) / elapsed, pct(sorted, 0.5), pct(sorted, 0.99))
}

// `--direct N`: N patient-view calls straight into the service, one after another, no HTTP and
// the tokens signed beforehand: the service's own CPU per call (process CPU time / N), which
// is what bounds the throughput of two cores. Then exits.
if let n = Int(argument("--direct", "")) {
    func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }
    var tokens: [String] = []
    for _ in 0..<(n + 20) {
        let now = Date()
        tokens.append(try await signer.sign(Claims(iss: "https://load.test", aud: .init(value: [base + pv]), exp: .init(value: now + 3600), iat: .init(value: now),
                                                   jti: .init(value: UUID().uuidString))))
    }
    let bodies = (0..<(n + 20)).map { _ in Data(parts.joined(separator: UUID().uuidString.lowercased()).utf8) }
    for i in 0..<20 {
        let r = await service.call(service: "rounds-t2d-patient-view", body: bodies[i], authorization: "Bearer " + tokens[i], audience: base + pv, linkBase: base)
        // `--dump FILE`: the first reply, to compare the cards of two builds.
        if i == 0, let path = Optional(argument("--dump", "")), !path.isEmpty { try r.body.write(to: URL(fileURLWithPath: path)) }
    }
    let cpu0 = cpuSeconds(), t0 = DispatchTime.now().uptimeNanoseconds
    var failed = 0
    for i in 20..<(n + 20) {
        let r = await service.call(service: "rounds-t2d-patient-view", body: bodies[i], authorization: "Bearer " + tokens[i], audience: base + pv, linkBase: base)
        if r.status != 200 { failed += 1 }
    }
    let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(n), cpu = (cpuSeconds() - cpu0) * 1000 / Double(n)
    print(String(format: "direct patient-view: %d calls (%d failed), %.2f ms wall and %.2f ms CPU per call (request body %d bytes)", n, failed, wall, cpu, bodies[0].count))
    server.cancel()
    _ = await server.result
    exit(0)
}

print("| endpoint | clients | requests | errors | requests/s | p50 ms | p99 ms |")
print("|---|---:|---:|---:|---:|---:|---:|")
_ = await run(clients: 2, seconds: 2) { (pv, parts.joined(separator: UUID().uuidString.lowercased())) }   // warm-up
for c in levels {
    let r = await run(clients: c, seconds: seconds) { (pv, parts.joined(separator: UUID().uuidString.lowercased())) }
    print(String(format: "| patient-view | %d | %d | %d | %.1f | %.1f | %.1f |", c, r.n, r.errors, r.rps, r.p50, r.p99))
}
// Feedback: cards first (not timed), then each accepted once, 8 clients at a time.
var cards: [(card: String, suggestion: String)] = []
while cards.count < feedbackCount {
    let r = try await call(pv, parts.joined(separator: UUID().uuidString.lowercased()))
    let o = try JSONSerialization.jsonObject(with: r.body) as? [String: Any]
    guard let card = (o?["cards"] as? [[String: Any]])?.first, let s = (card["suggestions"] as? [[String: Any]])?.first else { fatalError("no suggestion to accept: \(r.status)") }
    cards.append((card["uuid"] as! String, s["uuid"] as! String))
}
let next = Box()
let pending = cards
let fb = await run(clients: 8, seconds: 3600) {
    let k: Int = next.lock.withLock { let k = next.errors; next.errors += 1; return k }
    guard k < pending.count else { return nil }
    let cards = pending
    return (pv + "/feedback", #"{"feedback":[{"card":"\#(cards[k].card)","outcome":"accepted","acceptedSuggestions":[{"id":"\#(cards[k].suggestion)"}],"outcomeTimestamp":"2026-01-31T14:05:00Z"}]}"#)
}
print(String(format: "| feedback | 8 | %d | %d | %.1f | %.1f | %.1f |", fb.n, fb.errors, fb.rps, fb.p50, fb.p99))
let v = try store.verifyAudit()
print("\nDecisions recorded: \(try store.decisionCount()) of \(cards.count); audit chain: \(v.entries) entries, \(v.ok ? "valid" : "PROBLEMS: \(v.problems)").")
server.cancel()
_ = await server.result
