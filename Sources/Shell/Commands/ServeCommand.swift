import ArgumentParser
import CDSHooks
import Foundation
import Review

/// `rounds serve`: Rounds as a CDS Hooks 2.0 service, on the same review core, decisions and
/// audit log as the shell.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve Rounds to an EHR as a CDS Hooks 2.0 service: discovery, patient-view and order-select cards, feedback recorded as decisions.",
        discussion: """
        Endpoints: GET /cds-services, POST /cds-services/{id}, POST /cds-services/{id}/feedback. Every call must carry a JWT \
        signed by a client listed in the trusted-clients file (README: "Serving an EHR"). Each card links to the patient's \
        case report at GET /cds-reports/{token}: an unguessable token bound to that card, valid for one hour, every opening \
        audited (report.made). Cards and refusals are audited; \
        feedback is committed as a decision with its audit entry before the reply. Decision support only. Stop with Ctrl-C.
        """)

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The address to listen on (127.0.0.1: this machine only).", valueName: "address")) var host = "127.0.0.1"
    @Option(help: ArgumentHelp("The port (0: any free one).", valueName: "n")) var port = 8080
    @Option(help: ArgumentHelp("The trusted-clients file. Default: $ROUNDS_CDS_CLIENTS, else ~/.rounds/cds-clients.yaml.", valueName: "path")) var clients: String?
    @Option(help: ArgumentHelp("The base URL clients put in their tokens' aud (default: http:// and the Host they called).", valueName: "url")) var audience: String?
    @Option(help: ArgumentHelp("The base URL clinicians' browsers reach this service by, for the cards' report links (default: --audience, else http:// and the Host of the hook call).", valueName: "url")) var publicURL: String?
    @Option(help: ArgumentHelp("The largest request body accepted, in bytes.", valueName: "bytes")) var maxBody = CDSHooksService.defaultMaxBodyBytes

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        if let u = publicURL, !(u.hasPrefix("http://") || u.hasPrefix("https://")) || URL(string: u)?.host == nil {
            throw ValidationError("--public-url must be an http:// or https:// URL with a host, e.g. https://rounds.example.org")
        }
        guard maxBody >= 1024 else { throw ValidationError("--max-body must be at least 1024 bytes") }
    }

    /// Where the trusted-clients file is looked for.
    static func clientsPath(explicit: String?) -> String {
        if let p = explicit { return p }
        if let p = ProcessInfo.processInfo.environment["ROUNDS_CDS_CLIENTS"], !p.isEmpty { return p }
        return ((ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".rounds/cds-clients.yaml")
    }

    func run() throws {
        let ctx = try Context(global, seedDemo: false)
        let workspace = ctx.workspace
        do {
            // Fail at start, not at the first call, on a broken model, rule file or reason list.
            _ = try workspace.model(); _ = try workspace.rules(); _ = try workspace.overrideReasons()
        } catch let e as ReviewError { throw ValidationError(e.message) }
        let path = Self.clientsPath(explicit: clients)
        let (host, port, audience, publicURL, maxBody, out) = (host, port, audience, publicURL, maxBody, ctx.out)
        let outcome = Blocking.run { () async throws -> Void in
            let authenticator: ClientAuthenticator
            do { authenticator = try await ClientAuthenticator.load(path: path) } catch let e as CDSHooksError { throw ValidationError(e.message) }
            let service = CDSHooksService(workspace: workspace, authenticator: authenticator, maxBodyBytes: maxBody)
            let issuers = await authenticator.issuers
            try await CDSHooksServer(service: service, host: host, port: port, audienceBase: audience, publicBase: publicURL).run { bound in
                do { try await service.auditStart(address: "\(host):\(bound)") } catch {
                    out.note("error: \(error)"); Foundation.exit(1)
                }
                out.note("Rounds CDS Hooks service listening on http://\(host):\(bound)/cds-services (\(issuers.count) trusted client\(issuers.count == 1 ? "" : "s"): \(issuers.joined(separator: ", "))). Decision support only. Ctrl-C stops it.")
            }
        }
        if case .failure(let e) = outcome { throw e }
    }
}


/// Runs async work to completion from a synchronous command.
enum Blocking {
    final class Box<T>: @unchecked Sendable { var value: T?; init() {} }

    static func run<T>(_ work: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
        let box = Box<Result<T, any Error>>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.value = .success(try await work()) } catch { box.value = .failure(error) }
            done.signal()
        }
        done.wait()
        return box.value!
    }
}
