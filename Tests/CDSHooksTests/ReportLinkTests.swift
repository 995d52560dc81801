import Foundation
import GRDB
import Store
import Testing
import TestSupport

/// The cards' "full explanation" link: a capability URL to the patient's case report, bound to
/// the card, expiring, audited; and a refusal whose audit entry cannot be written.
@Suite(.serialized) struct ReportLinkTests {
    static let patientView = CDSHooksTests.patientView

    /// The patient-view cards for Dirk, and the clinician-facing link of the first.
    static func cards(_ live: LiveService) async throws -> [[String: Any]] {
        let r = try await live.post(patientView, try HookFixture.request(file: CDSHooksTests.dirk))
        #expect(r.status == 200, "\(r.text.prefix(400))")
        let cards = (r.json as? [String: Any])?["cards"] as? [[String: Any]] ?? []
        try #require(!cards.isEmpty)
        return cards
    }

    static func link(_ card: [String: Any]) throws -> (url: String, path: String) {
        let links = card["links"] as? [[String: Any]] ?? []
        try #require(links.count == 1, "one link on \(card["uuid"] ?? "?")")
        #expect(links[0]["type"] as? String == "absolute" && links[0]["label"] as? String == "Full explanation in Rounds")
        let url = try #require(links[0]["url"] as? String)
        return (url, try #require(URL(string: url)?.path))
    }

    @Test func aPatientViewCardLinksToItsPatientsCaseReportWhoseOpeningIsAuditedAndExpires() async throws {
        let clock = TestClock()
        let live = try await LiveService.start(clock: { clock.read() })
        defer { Task { await live.stop() } }
        let cards = try await Self.cards(live)
        cards.forEach(CDSHooksTests.checkCard)
        let card = cards[0]
        let uuid = try #require(card["uuid"] as? String)
        let (url, path) = try Self.link(card)
        // From the request's Host: the address the EHR called.
        #expect(url.hasPrefix(live.base + "/cds-reports/"), "\(url)")
        let token = String(path.dropFirst("/cds-reports/".count))
        // 256 random bits, nothing of the card's uuid in it; every card its own token.
        #expect(token.count == 64 && token.allSatisfy(\.isHexDigit), "\(token)")
        let hexUUID = uuid.replacingOccurrences(of: "-", with: "")
        #expect(!token.contains(hexUUID) && !token.contains(String(hexUUID.prefix(8))))
        let tokens = try cards.map { try Self.link($0).path }
        #expect(Set(tokens).count == cards.count)

        // A browser has no JWT: the token alone opens the report.
        let before = try RoundsStore(path: live.db).auditEntries(last: 1000).count
        let r = try await live.call(.GET, path, token: .some(nil))
        #expect(r.status == 200, "\(r.text.prefix(300))")
        #expect(r.headers.first(name: "Content-Type") == "text/html; charset=utf-8")
        let csp = r.headers.first(name: "Content-Security-Policy") ?? ""
        #expect(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "CSP: \(csp)")
        // The report of that patient: their id, the model's top option, the report's sections.
        let served = try RoundsStore(path: live.db).auditEntries(last: 50).last { $0.event == .cardsServed }
        let patient = try #require(served?.patient)
        let probabilities = try #require((card["extension"] as? [String: Any])?["org.rounds.probabilities"] as? [String: Double])
        let topID = try #require(probabilities.max { $0.value < $1.value }?.key)
        let topName = try #require(TestSupport.pack.treatments.options.first { $0.id == topID }?.name)
        #expect(r.text.hasPrefix("<!DOCTYPE html>") || r.text.lowercased().hasPrefix("<!doctype html>"))
        #expect(r.text.contains(patient), "the report names \(patient)")
        #expect(r.text.contains(topName), "the report names the model's top option \(topName)")
        #expect(r.text.contains("Recommendation and guideline standing") && r.text.contains("Guideline findings"))
        // No external resource for the CSP to block.
        #expect(!r.text.contains("src=\"http") && !r.text.contains("<link "))

        // Its opening is a report.made entry via the service, tied to the card; the chain verifies.
        let entries = try RoundsStore(path: live.db).auditEntries(last: 1000)
        #expect(entries.count == before + 1)
        let made = try #require(entries.last)
        #expect(made.event == .reportMade && made.patient == patient, "\(made.event) \(made.detail)")
        #expect(made.detail["via"] == "cds-hooks" && made.detail["card"] == uuid && made.detail["client"] == live.iss)
        #expect(made.detail["model_sha256"] == (card["extension"] as? [String: Any])?["org.rounds.model_sha256"] as? String)
        #expect(!made.detail.values.contains { $0.contains(token) }, "the token is not in the audit log")
        let verify = try Shell.run(["audit", "verify"], db: live.db)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // Unknown tokens (well-formed or not) and, after the hour, this one: 404, plain text.
        for bad in ["/cds-reports/" + String(repeating: "0", count: 64), "/cds-reports/" + hexUUID, "/cds-reports/..%2F..%2Fetc", "/cds-reports/" + token.uppercased()] {
            let u = try await live.call(.GET, bad, token: .some(nil))
            #expect(u.status == 404, "\(bad): \(u.status)")
            #expect(u.text.contains("unknown or has expired"))
        }
        clock.advance(59 * 60)
        #expect(try await live.call(.GET, path, token: .some(nil)).status == 200)
        clock.advance(61)
        let expired = try await live.call(.GET, path, token: .some(nil))
        #expect(expired.status == 404 && expired.headers.first(name: "Content-Type") == "text/plain; charset=utf-8", "\(expired.status) \(expired.text)")
        let after = try RoundsStore(path: live.db).auditEntries(last: 1000)
        // The two openings (and the `audit verify` above, which audits itself); the 404s leave nothing.
        #expect(after.dropFirst(before).map(\.event) == [.reportMade, .auditVerified, .reportMade], "\(after.dropFirst(before).map(\.event))")
    }

    @Test func aRefusalWhoseAuditEntryCannotBeWrittenAnswers503() async throws {
        let live = try await LiveService.start()
        defer { Task { await live.stop() } }
        // The audit log stops taking entries (as a full disk or a broken file would).
        let db = try DatabaseQueue(path: live.db)
        try await db.write { try $0.execute(sql: "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'no audit for this test'); END") }
        let r = try await live.call(.GET, "/cds-services", token: .some(nil))
        #expect(r.status == 503, "\(r.status) \(r.text)")
        #expect(r.text.contains("could not be written to the audit log"))
        try await db.write { try $0.execute(sql: "DROP TRIGGER refuse_audit") }
        let again = try await live.call(.GET, "/cds-services", token: .some(nil))
        #expect(again.status == 401, "\(again.status) \(again.text)")
        #expect(try RoundsStore(path: live.db).auditEntries(last: 10).first?.event == .requestRefused)
    }

    /// `<section id="id">…</section>` of a report page.
    static func section(_ id: String, of html: String) -> String? {
        guard let start = html.range(of: "<section id=\"\(id)\">"), let end = html.range(of: "</section>", range: start.upperBound..<html.endIndex) else { return nil }
        return String(html[start.lowerBound..<end.upperBound])
    }

    @Test func theLinkedPageIsTheReportTheShellMakesForThatPatientAtThatVisit() async throws {
        let live = try await LiveService.start()
        defer { Task { await live.stop() } }
        let card = try await Self.cards(live)[0]
        let suggestion = try #require((card["suggestions"] as? [[String: Any]])?.first)
        // Feedback puts the patient (and the decision) into the store, where the shell finds them.
        let feedback: [String: Any] = ["feedback": [["card": card["uuid"]!, "outcome": "accepted", "acceptedSuggestions": [["id": suggestion["uuid"]!]],
                                                     "outcomeTimestamp": "2026-01-31T14:05:00Z"]]]
        #expect(try await live.post(Self.patientView + "/feedback", feedback).status == 200)
        let page = try await live.call(.GET, try Self.link(card).path, token: .some(nil))
        #expect(page.status == 200)
        let patient = try #require(try RoundsStore(path: live.db).auditEntries(last: 50).last { $0.event == .cardsServed }?.patient)
        #expect(try RoundsStore(path: live.db).decisions(patient: patient).count == 1)
        let visit = try #require((card["extension"] as? [String: Any])?["org.rounds.visit"] as? Double)
        let out = TestSupport.temporaryDirectory("rounds-cds-report").appendingPathComponent("shell.html").path
        let shell = try Shell.run(["report", "--patient", patient, "--visit", String(Int(visit)), "--out", out], db: live.db)
        #expect(shell.status == 0, "\(shell.stdout)\(shell.stderr)")
        let made = try String(contentsOfFile: out, encoding: .utf8)
        for id in ["distribution", "timeline", "attention", "explanation", "guidelines", "decisions"] {
            let mine = Self.section(id, of: page.text), theirs = Self.section(id, of: made)
            #expect(mine != nil && mine == theirs, "section \(id) differs from the shell's report")
        }
    }
}
