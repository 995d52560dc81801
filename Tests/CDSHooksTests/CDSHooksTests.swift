import Foundation
import Store
import Testing
import TestSupport

/// The CDS Hooks service end to end: the real server on a loopback port, a real HTTP client,
/// hook requests built from the real Synthea fixtures, cards checked against the CDS Hooks 2.0
/// response schema, feedback into the store's decisions, `history` and `audit verify`.
@Suite(.serialized) struct CDSHooksTests {
    static let patientView = "/cds-services/rounds-t2d-patient-view"
    static let orderSelect = "/cds-services/rounds-t2d-order-select"
    static let dirk = "Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json"
    static let parker = "Parker_Casper_6d0c6969-6843-47e1-9921-d9bf11b1df31.json"

    /// The CDS Hooks 2.0 Card schema (§ Card Attributes; anchors §1.1): required fields, types
    /// and values, the 140-character summary, `selectionBehavior` with suggestions, a display
    /// on every override reason.
    static func nonEmpty(_ v: Any?) -> Bool { !((v as? String) ?? "").isEmpty }

    static func checkCard(_ card: [String: Any]) {
        #expect((card["uuid"] as? String).map { UUID(uuidString: $0) != nil } == true, "uuid: \(card["uuid"] ?? "none")")
        let summary = card["summary"] as? String ?? ""
        #expect(!summary.isEmpty && summary.count < 140, "summary: \(summary)")
        #expect(["info", "warning", "critical"].contains(card["indicator"] as? String ?? ""), "indicator")
        let source = card["source"] as? [String: Any]
        let label = (source?["label"] as? String) ?? ""
        #expect(!label.isEmpty, "source.label")
        if let topic = source?["topic"] as? [String: Any] { #expect(topic["code"] is String && topic["system"] is String) }
        if let detail = card["detail"] { #expect(detail is String) }
        if let suggestions = card["suggestions"] as? [[String: Any]] {
            #expect(["at-most-one", "any"].contains(card["selectionBehavior"] as? String ?? ""), "selectionBehavior with suggestions")
            for s in suggestions {
                #expect(nonEmpty(s["label"]) && s["uuid"] is String)
                for a in (s["actions"] as? [[String: Any]]) ?? [] {
                    #expect(["create", "update", "delete"].contains(a["type"] as? String ?? "") && a["description"] is String)
                    if a["type"] as? String == "create" { #expect((a["resource"] as? [String: Any])?["resourceType"] is String) }
                }
            }
        }
        for r in (card["overrideReasons"] as? [[String: Any]]) ?? [] {
            #expect(r["code"] is String && r["system"] is String && nonEmpty(r["display"]), "override reason \(r)")
        }
        for l in (card["links"] as? [[String: Any]]) ?? [] { #expect(l["label"] is String && l["url"] is String && ["absolute", "smart"].contains(l["type"] as? String ?? "")) }
        if let ext = card["extension"] { #expect(ext is [String: Any]) }
    }

    @Test func discoveryListsBothHooksWithPrefetchOfThePacksLOINCCodes() async throws {
        let live = try await LiveService.start()
        defer { Task { await live.stop() } }
        let r = try await live.call(.GET, "/cds-services")
        #expect(r.status == 200, "\(r.text)")
        let services = (r.json as? [String: Any])?["services"] as? [[String: Any]] ?? []
        #expect(Set(services.compactMap { $0["hook"] as? String }) == ["patient-view", "order-select"])
        for s in services {
            #expect(s["id"] is String && (s["description"] as? String ?? "").contains("Decision support only"))
            let prefetch = s["prefetch"] as? [String: String] ?? [:]
            #expect(Set(prefetch.keys) == ["patient", "encounters", "observations", "conditions", "medications"])
            #expect(prefetch["patient"] == "Patient/{{context.patientId}}")
            for code in TestSupport.pack.features.definitions.flatMap(\.loinc) { #expect(prefetch["observations"]!.contains("http://loinc.org|\(code)")) }
        }
    }

    @Test func patientViewAnswersASyntheaPatientWithCardsAndFeedbackBecomesADecisionInHistoryAndTheChain() async throws {
        let live = try await LiveService.start()
        defer { Task { await live.stop() } }
        let request = try HookFixture.request(file: Self.dirk)
        let r = try await live.post(Self.patientView, request)
        #expect(r.status == 200, "\(r.text.prefix(400))")
        let cards = (r.json as? [String: Any])?["cards"] as? [[String: Any]] ?? []
        try #require(!cards.isEmpty)
        cards.forEach(Self.checkCard)
        let card = cards[0]
        let detail = card["detail"] as? String ?? ""
        // The distribution with each option's guideline status, the attributions and their completeness.
        for t in TestSupport.pack.treatments.options { #expect(detail.contains(t.name), "detail lists \(t.name)") }
        #expect(detail.contains("| Option | Model probability | Guideline status |") && detail.contains("Completeness:") && detail.contains("| Attribution |"))
        #expect(detail.contains("synthetic data"))
        let reasons = card["overrideReasons"] as? [[String: Any]] ?? []
        #expect(reasons.count == (try TestSupport.pack.overrideReasonsForTests()).reasons.count)
        let suggestion = (card["suggestions"] as? [[String: Any]])?.first
        try #require(suggestion != nil, "the recommendation card suggests the model's choice")

        // Accept it: a decision, committed with its audit entry before the reply.
        let feedback: [String: Any] = ["feedback": [["card": card["uuid"]!, "outcome": "accepted", "acceptedSuggestions": [["id": suggestion!["uuid"]!]],
                                                     "outcomeTimestamp": "2026-01-31T14:05:00Z"]]]
        let f = try await live.post(Self.patientView + "/feedback", feedback)
        #expect(f.status == 200, "\(f.text)")
        // Duplicates are tolerated and record nothing new.
        let again = try await live.post(Self.patientView + "/feedback", feedback)
        #expect(again.status == 200 && ((again.json as? [String: Any])?["recorded"] as? [String])?.isEmpty == true)

        let patient = (request["context"] as! [String: Any])["patientId"] as! String
        let store = try RoundsStore(path: live.db)
        let decisions = try store.decisions(patient: patient)
        #expect(decisions.count == 1)
        let d = try #require(decisions.first)
        #expect(d.id == card["uuid"] as? String && d.outcome == .accepted && d.chosen == d.recommended && d.clinician == "dr-ehr-1")
        #expect(d.source?.channel == "cds-hooks" && d.source?.client == live.iss && d.source?.hookInstance == request["hookInstance"] as? String)
        #expect(d.input.values.count == d.input.visits * d.input.features && d.modelSha256.count == 64)

        // The shell shows it, with where it came from, and the chain verifies.
        let history = try Shell.run(["history", "--patient", patient], db: live.db)
        #expect(history.status == 0 && history.stdout.contains("cds-hooks") && history.stdout.contains(d.chosen), "\(history.stdout)\(history.stderr)")
        let verify = try Shell.run(["audit", "verify"], db: live.db)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // Every card served is an audit event naming the client, the model and the card ids.
        let served = try store.auditEntries(last: 50).filter { $0.event == .cardsServed }
        #expect(served.contains { $0.detail["cards"]?.contains(card["uuid"] as! String) == true && $0.detail["client"] == live.iss && $0.detail["model_sha256"]?.count == 64 })
    }

    @Test func anOverrideNeedsACodedReasonAndTheChosenOption() async throws {
        let live = try await LiveService.start()
        defer { Task { await live.stop() } }
        let request = try HookFixture.request(file: Self.dirk)
        let cards = (try await live.post(Self.patientView, request).json as? [String: Any])?["cards"] as? [[String: Any]] ?? []
        let card = try #require(cards.first)
        let probabilities = (card["extension"] as? [String: Any])?["org.rounds.probabilities"] as? [String: Double] ?? [:]
        let statuses = ((card["extension"] as? [String: Any])?["org.rounds.guideline_status"] as? [String]) ?? []
        let top = probabilities.max { $0.value < $1.value }!.key
        let other = try #require(probabilities.keys.sorted().first { $0 != top && !statuses.contains("\($0)=contraindicated") })
        let noReason: [String: Any] = ["feedback": [["card": card["uuid"]!, "outcome": "overridden", "outcomeTimestamp": "2026-01-31T14:05:00Z",
                                                     "extension": ["org.rounds.chosen": other]]]]
        let r1 = try await live.post(Self.patientView + "/feedback", noReason)
        #expect(r1.status == 400 && r1.text.contains("overrideReason"), "\(r1.text)")
        let noChoice: [String: Any] = ["feedback": [["card": card["uuid"]!, "outcome": "overridden", "outcomeTimestamp": "2026-01-31T14:05:00Z",
                                                     "overrideReason": ["reason": ["system": "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes", "code": "too-costly-uncovered"]]]]]
        let r2 = try await live.post(Self.patientView + "/feedback", noChoice)
        #expect(r2.status == 400 && r2.text.contains("org.rounds.chosen"), "\(r2.text)")
        var ok = noChoice
        ok["feedback"] = [["card": card["uuid"]!, "outcome": "overridden", "outcomeTimestamp": "2026-01-31T14:05:00.52Z", "extension": ["org.rounds.chosen": other],
                           "overrideReason": ["reason": ["system": "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes", "code": "too-costly-uncovered"], "userComment": "not covered"]]]
        let r3 = try await live.post(Self.patientView + "/feedback", ok)
        #expect(r3.status == 200, "\(r3.text)")
        let d = try #require(try RoundsStore(path: live.db).decisions(patient: (request["context"] as! [String: Any])["patientId"] as! String).first)
        #expect(d.outcome == .overridden && d.chosen == other && d.reason?.code == "cost-coverage" && d.note == "not covered" && d.reward == 0)
    }

    @Test func aContraindicatedOptionIsFlaggedAndOrderSelectSaysSo() async throws {
        let live = try await LiveService.start()
        defer { Task { await live.stop() } }
        // Parker Casper's eGFR falls to 4.3: metformin is contraindicated (drug label, KDIGO).
        let pv = try await live.post(Self.patientView, try HookFixture.request(file: Self.parker))
        #expect(pv.status == 200, "\(pv.text.prefix(300))")
        let cards = (pv.json as? [String: Any])?["cards"] as? [[String: Any]] ?? []
        cards.forEach(Self.checkCard)
        #expect(cards.contains { ($0["summary"] as? String ?? "").contains("Contraindicated") && $0["indicator"] as? String == "critical" })
        #expect((cards[0]["detail"] as? String ?? "").contains("CONTRAINDICATED"))
        // Never a suggestion to start a contraindicated option.
        for c in cards { for s in (c["suggestions"] as? [[String: Any]]) ?? [] { #expect(!(s["label"] as? String ?? "").lowercased().contains("metformin")) } }

        let draft: [String: Any] = ["resourceType": "MedicationRequest", "id": "draft-1", "status": "draft", "intent": "order",
                                    "medicationCodeableConcept": ["coding": [["system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "860975", "display": "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"]],
                                                                  "text": "Metformin 500 MG"]]
        let request = try HookFixture.request(hook: "order-select", file: Self.parker,
                                              extraContext: ["selections": ["MedicationRequest/draft-1"], "draftOrders": HookFixture.searchset([["resource": draft]])])
        let os = try await live.post(Self.orderSelect, request)
        #expect(os.status == 200, "\(os.text.prefix(300))")
        let order = ((os.json as? [String: Any])?["cards"] as? [[String: Any]] ?? [])
        try #require(!order.isEmpty)
        order.forEach(Self.checkCard)
        #expect((order[0]["summary"] as? String ?? "").contains("Ordering Metformin") && (order[0]["summary"] as? String ?? "").contains("CONTRAINDICATED"), "\(order[0]["summary"] ?? "")")
        #expect(order[0]["indicator"] as? String == "critical")
    }

    @Test func callsWithoutAValidTokenAreRefusedAndAudited() async throws {
        let live = try await LiveService.start()
        defer { Task { await live.stop() } }
        let body = try HookFixture.request(file: Self.dirk)
        let none = try await live.post(Self.patientView, body, token: .some(nil))
        #expect(none.status == 401 && none.text.contains("Authorization"), "\(none.text)")
        let expired = try await live.post(Self.patientView, body, token: try await live.token(Self.patientView, expiresIn: -60))
        #expect(expired.status == 401 && expired.text.contains("expired"), "\(expired.text)")
        let wrongAudience = try await live.post(Self.patientView, body, token: try await live.token(Self.patientView, aud: "https://elsewhere.example/cds-services/x"))
        #expect(wrongAudience.status == 401 && wrongAudience.text.contains("aud"), "\(wrongAudience.text)")
        let stranger = await JWTKeyCollectionFactory.stranger()
        let forged = try await live.post(Self.patientView, body, token: try await live.token(Self.patientView, with: stranger))
        #expect(forged.status == 401 && forged.text.contains("signature"), "\(forged.text)")
        let t = try await live.token(Self.patientView)
        #expect(try await live.post(Self.patientView, body, token: t).status == 200)
        let replay = try await live.post(Self.patientView, body, token: t)
        #expect(replay.status == 401 && replay.text.contains("replayed"), "\(replay.text)")
        let garbage = try await live.call(.GET, "/cds-services", token: "not-a-jwt")
        #expect(garbage.status == 401)
        let refused = try RoundsStore(path: live.db).auditEntries(last: 100).filter { $0.event == .requestRefused }
        #expect(refused.count == 6)
        #expect(try RoundsStore(path: live.db).decisionCount() == 0)
    }

    @Test func missingPrefetchIs412AndMalformedRequestsAre400WithAMessage() async throws {
        let live = try await LiveService.start(maxBodyBytes: 4 << 20)
        defer { Task { await live.stop() } }
        var request = try HookFixture.request(file: Self.dirk)
        var noPrefetch = request; noPrefetch["prefetch"] = nil
        let r412 = try await live.post(Self.patientView, noPrefetch)
        #expect(r412.status == 412 && r412.text.contains("prefetch"), "\(r412.text)")
        var partial = request["prefetch"] as! [String: Any]; partial["observations"] = NSNull()
        request["prefetch"] = partial
        let r412b = try await live.post(Self.patientView, request)
        #expect(r412b.status == 412 && r412b.text.contains("observations"), "\(r412b.text)")

        func expect400(_ body: Data, _ words: String, _ path: String = Self.patientView) async throws {
            let r = try await live.call(.POST, path, body: body)
            #expect(r.status == 400 && ((r.json as? [String: Any])?["error"] as? String ?? "").contains(words), "\(words): \(r.status) \(r.text.prefix(300))")
        }
        func json(_ o: Any) throws -> Data { try JSONSerialization.data(withJSONObject: o) }
        let good = try HookFixture.request(file: Self.dirk)
        try await expect400(Data("{not json".utf8), "not valid JSON")
        try await expect400(try json([1, 2]), "must be a JSON object")
        var wrongHook = good; wrongHook["hook"] = "order-sign"
        try await expect400(try json(wrongHook), "'hook' is 'order-sign'")
        var noInstance = good; noInstance["hookInstance"] = nil
        try await expect400(try json(noInstance), "hookInstance")
        var badUser = good; badUser["context"] = ["patientId": (good["context"] as! [String: Any])["patientId"]!, "userId": "Patient/123"]
        try await expect400(try json(badUser), "context.userId")
        var otherPatient = good; otherPatient["context"] = ["patientId": "someone-else", "userId": "Practitioner/dr-1"]
        try await expect400(try json(otherPatient), "context.patientId")
        var notFHIR = good; var p = good["prefetch"] as! [String: Any]; p["conditions"] = ["hello": "world"]; notFHIR["prefetch"] = p
        try await expect400(try json(notFHIR), "prefetch.conditions")
        try await expect400(try json(["feedback": []]), "non-empty array", Self.patientView + "/feedback")
        let unknownCard = try await live.call(.POST, Self.patientView + "/feedback", body: try json(["feedback": [["card": "x", "outcome": "accepted"]]]))
        #expect(unknownCard.status == 404 && unknownCard.text.contains("not a card this service served"), "\(unknownCard.text)")
        let unknownService = try await live.call(.POST, "/cds-services/no-such-service", body: try json(good))
        #expect(unknownService.status == 404 && unknownService.text.contains("rounds-t2d-patient-view"))
        let huge = Data(repeating: 0x20, count: 5 << 20)
        let tooLarge = try await live.call(.POST, Self.patientView, body: huge)
        #expect(tooLarge.status == 413 && tooLarge.text.contains("limit"), "\(tooLarge.status)")
        // Nothing of it reached the store's decisions, and the server still answers.
        #expect(try RoundsStore(path: live.db).decisionCount() == 0)
        #expect(try await live.call(.GET, "/cds-services").status == 200)
    }

    @Test func concurrentCallsAndFeedbackLoseNothingAndKeepOneChain() async throws {
        let live = try await LiveService.start()
        defer { Task { await live.stop() } }
        let n = 12
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<n {
                group.addTask {
                    let r = try await live.post(Self.patientView, try HookFixture.request(file: Self.dirk))
                    guard r.status == 200, let card = ((r.json as? [String: Any])?["cards"] as? [[String: Any]])?.first,
                          let s = (card["suggestions"] as? [[String: Any]])?.first else { return r.status }
                    let f = try await live.post(Self.patientView + "/feedback", ["feedback": [["card": card["uuid"]!, "outcome": "accepted",
                                                                                              "acceptedSuggestions": [["id": s["uuid"]!]], "outcomeTimestamp": "2026-01-31T14:05:00Z"]]])
                    return f.status
                }
            }
            var all: [Int] = []
            for try await s in group { all.append(s) }
            return all
        }
        #expect(results == [Int](repeating: 200, count: n))
        #expect(try RoundsStore(path: live.db).decisionCount() == n)
        let verify = try Shell.run(["audit", "verify"], db: live.db)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}
