import Foundation
import Patients
import Report
import Review
import Store

/// The CDS Hooks service without its HTTP: discovery, hook calls answered with cards, feedback
/// recorded as decisions. Every call is authenticated first; a refused one is audited. Safe to
/// call concurrently: the workspace and the ledger lock, the store serializes its writes.
public final class CDSHooksService: Sendable {
    public let workspace: Workspace
    public let authenticator: ClientAuthenticator
    public let services: [ServiceDefinition]
    /// The largest request body accepted, in bytes.
    public let maxBodyBytes: Int
    let ledger: CardLedger
    /// How long a card's report link opens the report (`ReportLink.defaultLifetime`).
    public let linkLifetime: TimeInterval
    /// The time, injectable so that tests can expire a link without waiting.
    let clock: @Sendable () -> Date
    /// The id of this service process: the session of its own audit entries.
    let sessionID = UUID().uuidString.lowercased()

    public static let defaultMaxBodyBytes = 8 << 20

    public static let defaultLinkLifetime = ReportLink.defaultLifetime

    public init(workspace: Workspace, authenticator: ClientAuthenticator, maxBodyBytes: Int = CDSHooksService.defaultMaxBodyBytes, cardCapacity: Int = 20_000,
                linkLifetime: TimeInterval = CDSHooksService.defaultLinkLifetime, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.linkLifetime = linkLifetime
        self.clock = clock
        self.workspace = workspace
        self.authenticator = authenticator
        self.services = ServiceDefinition.all(pack: workspace.pack)
        self.maxBodyBytes = maxBodyBytes
        self.ledger = CardLedger(capacity: cardCapacity)
    }

    /// What goes back: the status, a body (JSON unless said otherwise) and any further headers.
    public struct Reply: Sendable {
        public var status: Int
        public var body: Data
        public var contentType = "application/json"
        public var headers: [String: String] = [:]
        static func json<T: Encodable>(_ value: T, status: Int = 200) -> Reply {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Reply(status: status, body: (try? e.encode(value)) ?? Data("{}".utf8))
        }
        static func error(_ e: CDSHooksError) -> Reply { json(["error": e.message], status: e.status) }
    }

    /// The reviewer of the service's own entries (start, refusals): no clinician, this process.
    private func serviceReviewer(_ user: String = "cds-service") -> Reviewer {
        // Without a clinician there is nothing to check, so this cannot throw.
        try! Reviewer(clinician: nil, role: nil, user: user, sessionID: sessionID)
    }

    /// Audits the start of the service (which clients it trusts, where it listens).
    public func auditStart(address: String) async throws {
        let issuers = await authenticator.issuers
        try workspace.audit(serviceReviewer().entry(.serviceStarted, action: "E",
                                                    detail: ["address": address, "clients": issuers.joined(separator: " "), "max_body_bytes": String(maxBodyBytes)]))
    }

    /// Authenticates, auditing a refusal (without anything of the request's content).
    private func authenticate(_ authorization: String?, audience: String, path: String) async throws -> ClientIdentity {
        do { return try await authenticator.authenticate(authorization: authorization, audience: audience) } catch let e as CDSHooksError {
            // A refusal nobody could later find is not let pass quietly: no audit entry, a 503.
            do {
                try workspace.audit(serviceReviewer("unauthenticated").entry(.requestRefused, action: "E", outcome: 4, detail: ["path": path, "reason": e.message]))
            } catch {
                throw CDSHooksError(503, "the request was refused (\(e.message)), and the refusal could not be written to the audit log: the service cannot answer until its audit log can be written")
            }
            throw e
        }
    }

    private func service(_ id: String) throws -> ServiceDefinition {
        guard let s = services.first(where: { $0.id == id }) else {
            throw CDSHooksError.notFound("no CDS service '\(id)': this server offers \(services.map(\.id).joined(separator: ", "))")
        }
        return s
    }

    /// `GET /cds-services`.
    public func discovery(authorization: String?, audience: String) async -> Reply {
        do {
            _ = try await authenticate(authorization, audience: audience, path: "/cds-services")
            return .json(["services": services])
        } catch let e as CDSHooksError { return .error(e) } catch { return .error(.init(500, "\(error)")) }
    }

    /// `POST /cds-services/{id}`: the hook call.
    /// `linkBase` is the service's public URL (no trailing slash) that cards' report links start with.
    public func call(service id: String, body: Data, authorization: String?, audience: String, linkBase: String) async -> Reply {
        do {
            let client = try await authenticate(authorization, audience: audience, path: "/cds-services/\(id)")
            let service = try service(id)
            let request = try HookRequest.parse(body, for: service)
            let (record, _) = try request.record(pack: workspace.pack)
            let reviewer: Reviewer
            do { reviewer = try Reviewer(clinician: request.clinician, role: request.role, user: "cds-client \(client.issuer)", sessionID: request.hookInstance) } catch let e as ReviewError {
                throw CDSHooksError.badRequest(e.message)
            }
            guard !record.visits.isEmpty else {
                return .json(CardsResponse(cards: [Card(uuid: UUID().uuidString.lowercased(),
                                                        summary: "Rounds: no visit in the record measured what the model reads (HbA1c, eGFR, …); nothing to recommend",
                                                        detail: nil, indicator: "info", source: Source(label: "Rounds", url: nil, topic: nil),
                                                        suggestions: nil, selectionBehavior: nil, overrideReasons: nil, links: nil, extension: nil)]))
            }
            let analysis: PatientAnalysis
            do { analysis = try PatientAnalysis(workspace: workspace, record: record, index: record.visits.count - 1) } catch let e as ReviewError {
                throw CDSHooksError(500, e.message)
            }
            let maker = CardMaker(analysis: analysis, pack: workspace.pack, reasons: try workspace.overrideReasons(), service: id,
                                  hookInstance: request.hookInstance, client: client.issuer, reviewer: reviewer)
            let made: (cards: [Card], served: [ServedCard])
            if service.hook == "order-select" {
                let order = try DraftOrder.selected(in: request.context, pack: workspace.pack, treatments: analysis.treatments)
                guard let k = order.option else { return .json(CardsResponse(cards: [])) }
                made = maker.orderSelect(drafted: k, alreadyTaking: DraftOrder.takes(record, option: analysis.treatments[k].id, at: record.visits[analysis.index].date, pack: workspace.pack))
            } else {
                made = maker.patientView()
            }
            // The cards are logged before anyone sees them; a card that cannot be logged is not served.
            let detail = analysis.auditDetail(["service": id, "hook": service.hook, "hook_instance": request.hookInstance, "client": client.issuer,
                                               "cards": made.cards.map(\.uuid).joined(separator: " ")])
            do { try await workspace.auditCommitted(reviewer.entry(.cardsServed, patient: record.id, detail: detail)) } catch let e as ReviewError {
                throw CDSHooksError(500, e.message)
            }
            // Each card's link to its full report; the token is kept only in memory, bound to the card.
            var cards = made.cards, tokens: [String: String] = [:]
            for i in cards.indices {
                let token = ReportLink.token()
                tokens[cards[i].uuid] = token
                cards[i].links = [ReportLink.link(base: linkBase, token: token)]
            }
            ledger.add(made.served, tokens: tokens, expires: clock().addingTimeInterval(linkLifetime))
            return .json(CardsResponse(cards: cards))
        } catch let e as CDSHooksError { return .error(e) } catch { return .error(.init(500, "\(error)")) }
    }

    /// The Content-Security-Policy of a report page: it has no external resources, runs no
    /// script, submits no form and may not be framed.
    public static let reportPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// `GET /cds-reports/{token}`: the case report of the card the token was issued with, as the
    /// shell's `report` makes it for that patient at that review point, audited (`report.made`,
    /// via the service) before it is sent. No JWT (a browser has none): the token is the
    /// capability. Unknown, forgotten or expired tokens get 404 and nothing about why.
    public func report(token: String) async -> Reply {
        let notFound = Reply(status: 404, body: Data("No such report: the link is unknown or has expired (report links last \(Int(linkLifetime / 60)) minutes). Open the card again in the EHR for a fresh link.\n".utf8),
                             contentType: "text/plain; charset=utf-8")
        guard ReportLink.isToken(token), let card = ledger.card(token: token, at: clock()) else { return notFound }
        do {
            let a = card.analysis
            let report = try CaseReport(workspace: workspace, reviewer: card.reviewer, record: a.record, review: a.review,
                                        options: CaseReport.Options(madeAt: clock()))
            var detail = report.auditDetail(out: "cds-hooks report link")
            detail["via"] = "cds-hooks"
            detail["card"] = card.uuid
            detail["service"] = card.service
            detail["hook_instance"] = card.hookInstance
            detail["client"] = card.client
            try workspace.audit(card.reviewer.entry(.reportMade, patient: a.record.id, detail: detail))
            return Reply(status: 200, body: Data(report.html().utf8), contentType: "text/html; charset=utf-8",
                         headers: ["Content-Security-Policy": Self.reportPolicy, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                                   "X-Content-Type-Options": "nosniff"])
        } catch let e as ReviewError {
            return Reply(status: 503, body: Data("The report could not be made: \(e.message)\n".utf8), contentType: "text/plain; charset=utf-8")
        } catch {
            return Reply(status: 500, body: Data("The report could not be made: \(error)\n".utf8), contentType: "text/plain; charset=utf-8")
        }
    }

    /// `POST /cds-services/{id}/feedback`: each entry recorded as a decision, committed with its
    /// audit entry before the reply.
    public func feedback(service id: String, body: Data, authorization: String?, audience: String) async -> Reply {
        do {
            let client = try await authenticate(authorization, audience: audience, path: "/cds-services/\(id)/feedback")
            _ = try service(id)
            let reasons = try workspace.overrideReasons()
            let entries = try FeedbackEntry.parse(body, service: id, ledger: ledger, reasons: reasons)
            var recorded: [String] = []
            for e in entries {
                guard e.card.client == client.issuer else {
                    throw CDSHooksError.badRequest("feedback[\(e.index)].card was served to another client")
                }
                if let id = try record(e) { recorded.append(id) }
            }
            return .json(["recorded": recorded])
        } catch let e as CDSHooksError { return .error(e) } catch { return .error(.init(500, "\(error)")) }
    }

    /// Records one entry; returns the decision's id, or nil for a notice card or a duplicate
    /// (feedback may come more than once for a card: the first is the decision).
    private func record(_ e: FeedbackEntry) throws -> String? {
        let card = e.card, a = card.analysis
        guard card.kind != .notice else {
            try workspace.audit(card.reviewer.entry(.cardsServed, action: "U", patient: a.record.id,
                                                    detail: ["feedback": e.outcome.rawValue, "card": card.uuid, "service": card.service, "notice": "true"]))
            return nil
        }
        if let existing = try workspace.store.decision(id: card.uuid) { _ = existing; return nil }
        // The patient the decision is about goes into the store with it, so the shell can show it.
        let extractor = FeatureExtractor(pack: workspace.pack)
        _ = try workspace.store.save(imported: [a.record], source: "cds-hooks \(card.hookInstance)") { r in
            PatientSummaryFields(conditions: r.visits.isEmpty ? [] : extractor.conditionFeatures(for: r, asOf: r.visits.count - 1))
        }
        let decider: Decider
        do { decider = try Decider(workspace: workspace, reviewer: card.reviewer) { a } } catch let r as ReviewError { throw CDSHooksError.badRequest(r.message) }
        let source = DecisionRecord.Source(client: card.client, service: card.service, hookInstance: card.hookInstance, card: card.uuid, outcomeTimestamp: e.outcomeTimestamp)
        do {
            let stored = try decider.commit(chosen: a.treatments[e.chosen].id, reason: e.reason, note: e.note, confirm: true,
                                            howToConfirm: "send the override with overrideReason.userComment saying why", id: card.uuid, source: source)
            return stored.decision.id
        } catch let r as ReviewError {
            throw CDSHooksError(r.message.hasPrefix("the decision was NOT recorded") ? 500 : 400, "feedback[\(e.index)]: \(r.message)")
        }
    }
}
