import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The service on HTTP (Hummingbird): routes the CDS Hooks endpoints to `CDSHooksService`,
/// caps request bodies, and logs nothing (no request, no patient data) outside the store.
public struct CDSHooksServer: Sendable {
    public let service: CDSHooksService
    public let host: String
    public let port: Int
    /// The base URL clients put in their tokens' `aud` (`https://rounds.example.org`); by default
    /// `http://` and the request's Host header.
    public let audienceBase: String?

    /// The base URL of the cards' report links, as a clinician's browser reaches this service
    /// (`https://rounds.example.org`); by default `audienceBase`, else `http://` and the Host
    /// header of the hook call (right when the EHR and its users reach the service by one name).
    public let publicBase: String?

    public init(service: CDSHooksService, host: String, port: Int, audienceBase: String? = nil, publicBase: String? = nil) {
        self.service = service
        self.host = host
        self.port = port
        func trimmed(_ s: String?) -> String? { s.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } }
        self.audienceBase = trimmed(audienceBase)
        self.publicBase = trimmed(publicBase) ?? trimmed(audienceBase)
    }

    /// Runs until the task is cancelled or the process gets SIGINT/SIGTERM; `onRunning` gets
    /// the port bound (useful with port 0).
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = Router()
        let svc = service, base = audienceBase, linkBase = publicBase, limit = service.maxBodyBytes
        @Sendable func audience(_ request: Request, _ path: String) -> String {
            (base ?? "http://" + (request.head.authority ?? "localhost")) + path
        }
        @Sendable func respond(_ reply: CDSHooksService.Reply) -> Response {
            var headers: HTTPFields = [.contentType: reply.contentType]
            for (name, value) in reply.headers { if let n = HTTPField.Name(name) { headers[n] = value } }
            return Response(status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
        }
        @Sendable func body(_ request: Request) async -> Result<Data, CDSHooksError> {
            do {
                let buffer = try await request.body.collect(upTo: limit)
                return .success(Data(buffer.readableBytesView))
            } catch is NIOTooManyBytesError {
                return .failure(.init(413, "the request body is larger than this service's limit of \(limit) bytes"))
            } catch {
                return .failure(.badRequest("the request body could not be read"))
            }
        }
        router.get("/cds-services") { request, _ -> Response in
            respond(await svc.discovery(authorization: request.headers[.authorization], audience: audience(request, "/cds-services")))
        }
        router.post("/cds-services/:id") { request, context -> Response in
            let id = context.parameters.get("id") ?? ""
            switch await body(request) {
            case .failure(let e): return respond(.error(e))
            case .success(let data):
                return respond(await svc.call(service: id, body: data, authorization: request.headers[.authorization], audience: audience(request, "/cds-services/\(id)"),
                                              linkBase: linkBase ?? "http://" + (request.head.authority ?? "localhost")))
            }
        }
        router.post("/cds-services/:id/feedback") { request, context -> Response in
            let id = context.parameters.get("id") ?? ""
            switch await body(request) {
            case .failure(let e): return respond(.error(e))
            case .success(let data):
                return respond(await svc.feedback(service: id, body: data, authorization: request.headers[.authorization], audience: audience(request, "/cds-services/\(id)/feedback")))
            }
        }
        router.get("/cds-reports/:token") { _, context -> Response in
            respond(await svc.report(token: context.parameters.get("token") ?? ""))
        }
        var logger = Logger(label: "rounds.cds-hooks")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "Rounds"),
                              onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
        try await app.runService()
    }
}
