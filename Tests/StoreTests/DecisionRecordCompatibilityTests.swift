import Foundation
import Testing
@testable import Store

/// Decisions recorded before `guidelineStandings` existed read back unchanged: the field is
/// optional, absent from their canonical JSON, so their SHA-256 in the audit log still matches.
@Suite struct DecisionRecordCompatibilityTests {
    @Test func aRecordWithoutStandingsKeepsItsBytes() throws {
        let old = AuditFixture.decision(patient: "pt-1")
        #expect(old.guidelineStandings == nil)
        let body = try old.canonical()
        #expect(!body.contains("guidelineStandings"))
        let back = try JSONDecoder().decode(DecisionRecord.self, from: Data(body.utf8))
        #expect(try back.canonical() == body && back.guidelineStatuses == ["metformin": "neutral", "sglt2": "indicated"])
    }

    @Test func standingsRoundTripAndVerify() throws {
        var d = AuditFixture.decision(patient: "pt-1")
        d.guidelineStandings = ["sglt2": .init(taking: false, indication: "ada-sglt2-heart-failure", against: "caution", againstRule: "label-sglt2-ketoacidosis",
                                               deintensify: nil, label: "indicated · caution")]
        let back = try JSONDecoder().decode(DecisionRecord.self, from: Data(try d.canonical().utf8))
        #expect(back == d)
        let f = try AuditFixture(entries: 2)
        try f.store.record(d, audit: AuditFixture.entry(.decisionRecorded, patient: nil))
        #expect(try f.store.verifyAudit().ok)
        #expect(try f.store.decisions(patient: "pt-1").last?.guidelineStandings?["sglt2"]?.label == "indicated · caution")
    }
}
