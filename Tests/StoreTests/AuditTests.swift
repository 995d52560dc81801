import Foundation
import GRDB
import Testing
import Patients
@testable import Store
import TestSupport

/// A store with a small audit log and two decisions, and a back door for tampering.
struct AuditFixture {
    let store: RoundsStore
    let path: String

    init(entries: Int = 10) throws {
        path = TestSupport.temporaryDirectory("rounds-audit").appendingPathComponent("rounds.sqlite").path
        store = try RoundsStore(path: path)
        for i in 0..<entries {
            try store.append(Self.entry(i % 3 == 0 ? .patientOpened : .recommendationShown, patient: "pt-\(i % 4)", detail: ["visit": String(i)]))
            if i == 3 || i == 7 { try store.record(Self.decision(patient: "pt-\(i % 4)", note: "pt-\(i % 4) prefers tablets; seen with pt-2"), audit: Self.entry(.decisionRecorded, patient: nil)) }
        }
    }

    static func entry(_ event: AuditEvent, patient: String?, clinician: String? = "dr-lee", detail: [String: String] = [:]) -> AuditEntry {
        AuditEntry(event: event, action: "R", clinician: clinician, role: "physician", user: "alice", patient: patient, session: "s-1", detail: detail)
    }

    static func decision(patient: String, chosen: String = "sglt2", note: String? = nil) -> DecisionRecord {
        DecisionRecord(clinician: "dr-lee", role: "physician", sessionId: "s-1", patient: patient, visit: 3, visitDate: "2024-01-02",
                       modelVersion: "t", modelSha256: String(repeating: "a", count: 64), knowledgeSha256: String(repeating: "b", count: 64),
                       input: .init(visits: 1, features: 2, values: [0.1, -1.25], visitDates: ["2024-01-02"]),
                       treatments: ["metformin", "sglt2"], probabilities: [0.3, 0.7], displayedOrder: ["sglt2", "metformin"],
                       guidelineStatuses: ["metformin": "neutral", "sglt2": "indicated"], firedRules: ["r1"], recommended: "sglt2", chosen: chosen,
                       outcome: chosen == "sglt2" ? .accepted : .overridden,
                       reason: chosen == "sglt2" ? nil : .init(code: "cost-coverage", display: "Cost", system: "s", systemCode: "too-costly-uncovered"),
                       note: note, contraindicatedChoice: false, reward: chosen == "sglt2" ? 1 : 0, rewardRule: "test")
    }

    /// Runs SQL on the file directly, as someone with access to the database would.
    func tamper(_ sql: String, _ args: StatementArguments = []) throws {
        let q = try DatabaseQueue(path: path)
        try q.write { try $0.execute(sql: sql, arguments: args) }
    }

    func rows() throws -> [Row] {
        try DatabaseQueue(path: path).read { try Row.fetchAll($0, sql: "SELECT * FROM audit ORDER BY seq") }
    }

    /// A fresh copy of this fixture's files, to tamper with one at a time.
    func copy() throws -> AuditFixture {
        let dir = TestSupport.temporaryDirectory("rounds-audit-copy")
        let target = dir.appendingPathComponent("rounds.sqlite").path
        try DatabaseQueue(path: path).backup(to: DatabaseQueue(path: target))
        try FileManager.default.copyItem(atPath: SiteKey.path(forStore: path), toPath: SiteKey.path(forStore: target))
        try FileManager.default.copyItem(atPath: SigningKey.path(forStore: path), toPath: SigningKey.path(forStore: target))
        return try AuditFixture(existing: target)
    }

    private init(existing: String) throws { path = existing; store = try RoundsStore(path: existing) }
}

@Suite struct AuditChainTests {
    @Test func anUntouchedLogVerifies() throws {
        let f = try AuditFixture()
        let v = try f.store.verifyAudit()
        #expect(v.ok, "\(v.problems)")
        #expect(v.entries == 12 && v.decisions == 2 && v.headAuthenticated)
    }

    @Test func theChainIsSHA256OfPreviousAndContent() throws {
        let f = try AuditFixture(entries: 3)
        var previous = Digest.genesis
        for r in try f.rows() {
            let content: String = r["content"]
            #expect(r["content_hash"] == Digest.sha256(content))
            #expect(r["prev_hash"] == previous)
            // Independently: SHA-256 over the two raw digests, with Foundation-free hex parsing.
            var bytes = [UInt8]()
            for hex in [previous, Digest.sha256(content)] {
                var i = hex.startIndex
                while i < hex.endIndex { let j = hex.index(i, offsetBy: 2); bytes.append(UInt8(hex[i..<j], radix: 16)!); i = j }
            }
            #expect(r["hash"] == Digest.sha256(Data(bytes)))
            previous = r["hash"]
        }
    }

    @Test func everySingleCellChangeIsCaught() throws {
        let f = try AuditFixture(entries: 6)
        let rows = try f.rows()
        let columns = ["seq", "recorded_at", "event", "clinician", "patient_id", "content", "content_hash", "prev_hash", "hash"]
        for row in rows {
            let seq: Int = row["seq"]
            for c in columns {
                let t = try f.copy()
                let old: DatabaseValue = row[c]
                let new: DatabaseValue
                switch c {
                case "seq": new = (seq + 100).databaseValue
                case "content": new = (row["content"] as String).replacingOccurrences(of: "\"visit\"", with: "\"visjt\"").replacingOccurrences(of: "\"session\":\"s-1\"", with: "\"session\":\"s-2\"").databaseValue
                default: new = old.isNull ? "x".databaseValue : ((old.storage.value as? String).map { String($0.dropLast()) + ($0.last == "0" ? "1" : "0") } ?? "x").databaseValue
                }
                try t.tamper("UPDATE audit SET \(c) = ? WHERE seq = ?", [new, seq])
                let v = try t.store.verifyAudit()
                #expect(!v.ok, "changing \(c) of entry \(seq) went unnoticed")
            }
        }
    }

    @Test func alteringAnEntryAndRehashingItNamesThatEntry() throws {
        let f = try AuditFixture()
        let row = try f.rows()[5]
        let forged = (row["content"] as String).replacingOccurrences(of: "\"dr-lee\"", with: "\"dr-who\"")
        let contentHash = Digest.sha256(forged)
        try f.tamper("UPDATE audit SET content = ?, clinician = 'dr-who', content_hash = ?, hash = ? WHERE seq = 5",
                     [forged, contentHash, Digest.link(previous: row["prev_hash"], content: contentHash)!])
        let v = try f.store.verifyAudit()
        #expect(v.problems.first?.seq == 5 && v.problems.first?.kind == .altered, "\(v.problems)")
    }

    @Test func deletionsAreCaughtWhereverTheyAre() throws {
        let f = try AuditFixture()
        let count = try f.rows().count
        for seq in 0..<count {
            let t = try f.copy()
            try t.tamper("DELETE FROM audit WHERE seq = ?", [seq])
            let v = try t.store.verifyAudit()
            #expect(!v.ok, "deleting entry \(seq) went unnoticed")
            // A deleted decision entry leaves its decision orphaned; any other names the gap.
            if seq != 4 && seq != 9 { #expect(v.problems.first?.seq == seq && v.problems.first?.kind == .deleted, "\(seq): \(v.problems)") }
        }
    }

    @Test func swapsOfAnyTwoNeighboursAreCaught() throws {
        let f = try AuditFixture()
        let rows = try f.rows()
        for i in 0..<(rows.count - 1) {
            let t = try f.copy()
            let a = rows[i], b = rows[i + 1]
            // Swap everything but the position: the rows trade places in the order.
            for (target, source) in [(a, b), (b, a)] {
                try t.tamper("UPDATE audit SET recorded_at = ?, event = ?, clinician = ?, patient_id = ?, content = ?, content_hash = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                             [source["recorded_at"], source["event"], source["clinician"], source["patient_id"], source["content"], source["content_hash"],
                              source["prev_hash"], source["hash"], target["seq"]])
            }
            let v = try t.store.verifyAudit()
            #expect(v.problems.first?.seq == i && v.problems.first?.kind == .reordered, "swapping \(i) and \(i + 1): \(v.problems)")
        }
    }

    @Test func anInsertedEntryIsCaughtEvenWhenItsHashesAreRight() throws {
        let f = try AuditFixture()
        let last = try f.rows().last!
        var e = AuditFixture.entry(.patientOpened, patient: "pt-1")
        e.seq = (last["seq"] as Int) + 1
        e.recorded = last["recorded_at"]
        let content = try e.canonical(), ch = Digest.sha256(content)
        try f.tamper("INSERT INTO audit (seq, recorded_at, event, clinician, patient_id, content, content_hash, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [e.seq, e.recorded, e.event.rawValue, e.clinician, e.patient, content, ch, last["hash"], Digest.link(previous: last["hash"], content: ch)!])
        var v = try f.store.verifyAudit()
        #expect(v.problems.first?.kind == .inserted && v.problems.first?.seq == e.seq, "\(v.problems)")
        // Moving the head too needs the site key: the MAC gives it away.
        try f.tamper("UPDATE audit_head SET seq = ?, hash = ?", [e.seq, Digest.link(previous: last["hash"], content: ch)!])
        v = try f.store.verifyAudit()
        #expect(v.problems.first?.kind == .head, "\(v.problems)")
    }

    @Test func aRemovedHeadOrTailIsCaught() throws {
        let f = try AuditFixture()
        let t = try f.copy()
        try t.tamper("DELETE FROM audit_head")
        #expect(try t.store.verifyAudit().problems.first?.kind == .head)
    }

    @Test func decisionsAreBoundToTheirEntries() throws {
        let f = try AuditFixture()
        let id = try f.store.allDecisions()[0].id
        let cases: [String] = [
            "DELETE FROM decision WHERE id = '\(id)'",
            "UPDATE decision SET chosen = 'metformin' WHERE id = '\(id)'",
            "UPDATE decision SET body = replace(body, '\"chosen\":\"sglt2\"', '\"chosen\":\"metformin\"') WHERE id = '\(id)'",
            "UPDATE decision SET reward = -1 WHERE id = '\(id)'",
            "INSERT INTO decision SELECT 'forged', recorded_at, clinician, patient_id, outcome, recommended, chosen, reward, model_sha256, 2, body FROM decision WHERE id = '\(id)'",
        ]
        for sql in cases {
            let t = try f.copy()
            try t.tamper(sql)
            let v = try t.store.verifyAudit()
            #expect(v.problems.first?.kind == .decision, "\(sql): \(v.problems)")
        }
    }

    @Test func twoWritersKeepOneChain() async throws {
        let f = try AuditFixture(entries: 0)
        let other = try RoundsStore(path: f.path)
        await withTaskGroup(of: Void.self) { group in
            for store in [f.store, other] {
                group.addTask {
                    for i in 0..<100 { _ = try? store.append(AuditFixture.entry(.patientOpened, patient: "p\(i)")) }
                }
            }
        }
        let v = try f.store.verifyAudit()
        #expect(v.ok && v.entries == 200, "\(v.problems)")
    }

    @Test func storeAndKeyAreCreatedPrivate() throws {
        let f = try AuditFixture(entries: 1)
        for p in [f.path, SiteKey.path(forStore: f.path)] {
            let mode = try FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(p) has mode \(String(mode ?? 0, radix: 8))")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: SiteKey.path(forStore: f.path))).count == 32)
    }

    @Test func decisionsRoundTripBitForBit() throws {
        let f = try AuditFixture(entries: 0)
        var rng = SystemRandomNumberGenerator()
        var d = AuditFixture.decision(patient: "pt-1")
        d.input.values = (0..<400).map { _ in Float(bitPattern: UInt32.random(in: 0...0x7F7F_FFFF, using: &rng)) * (Bool.random() ? 1 : -1) }
        d.probabilities = [Float.leastNonzeroMagnitude, 1 - .ulpOfOne]
        try f.store.record(d, audit: AuditFixture.entry(.decisionRecorded, patient: nil))
        let back = try #require(try f.store.decisions(patient: "pt-1").first)
        #expect(back.input.values.map(\.bitPattern) == d.input.values.map(\.bitPattern))
        #expect(back.probabilities.map(\.bitPattern) == d.probabilities.map(\.bitPattern))
    }
}

@Suite struct AuditExportTests {
    func export(_ f: AuditFixture, _ options: AuditExportOptions) throws -> (AuditExportSummary, String, String) {
        let path = TestSupport.temporaryDirectory("rounds-export").appendingPathComponent("audit.\(options.format.rawValue)").path
        let s = try f.store.exportAudit(options, to: path, exportedAt: "2026-11-23T00:00:00.000Z")
        return (s, path, try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test func aJSONLExportVerifiesOfflineAndTamperingShows() throws {
        let f = try AuditFixture()
        let (summary, path, text) = try export(f, AuditExportOptions(format: .jsonl))
        #expect(summary.entries == 12 && summary.decisions == 2)
        let v = try AuditFileVerifier.verify(path: path)
        #expect(v.ok && v.entries == 12 && v.headAuthenticated, "\(v.problems)")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()  // the final newline
        func check(_ changed: [String], _ what: String) throws {
            let p = path + ".tampered"
            try (changed.joined(separator: "\n") + "\n").write(toFile: p, atomically: true, encoding: .utf8)
            #expect(!(try AuditFileVerifier.verify(path: p)).ok, "\(what) went unnoticed")
        }
        // The entry lines (the signed checkpoints after the header are tested in AuditProofTests).
        for i in 1..<(lines.count - 1) where !lines[i].hasPrefix(#"{"checkpoint":"#) {
            var altered = lines; altered[i] = altered[i].replacingOccurrences(of: "dr-lee", with: "dr-lea"); try check(altered, "altering line \(i)")
            var removed = lines; removed.remove(at: i); try check(removed, "removing line \(i)")
            if i + 1 < lines.count - 1 && !lines[i + 1].hasPrefix(#"{"checkpoint":"#) { var swapped = lines; swapped.swapAt(i, i + 1); try check(swapped, "swapping lines \(i) and \(i + 1)") }
        }
        try check(Array(lines.dropLast()), "cutting the end line")
        try check(Array(lines.dropLast(2)) + [lines.last!.replacingOccurrences(of: "12", with: "11")], "cutting the last entry and fixing the count")
    }

    @Test func pseudonymizedExportsHoldNoOriginalId() throws {
        let f = try AuditFixture()
        for format in AuditExportOptions.Format.allCases {
            let (summary, path, text) = try export(f, AuditExportOptions(format: format, pseudonymize: true))
            #expect(summary.entries > 0)
            for id in ["pt-0", "pt-1", "pt-2", "pt-3", "dr-lee", "alice"] {
                #expect(!text.contains(id), "\(format): \(id) is in the export")
            }
            #expect(text.contains("patient-"))
            if format == .jsonl { #expect(try AuditFileVerifier.verify(path: path).ok) }
        }
        // The same id gets the same pseudonym in every export of one site.
        let a = try export(f, AuditExportOptions(format: .csv, pseudonymize: true)).2
        let b = try export(f, AuditExportOptions(format: .csv, pseudonymize: true)).2
        #expect(a == b)
    }

    @Test func filtersSelectEntries() throws {
        let f = try AuditFixture()
        let (s, path, _) = try export(f, AuditExportOptions(format: .jsonl, patient: "pt-3"))
        let expected = try f.store.auditEntries(last: 100, patient: "pt-3").count
        #expect(s.entries == expected && s.entries > 0)
        let v = try AuditFileVerifier.verify(path: path)
        #expect(v.ok, "\(v.problems)")
        #expect(try export(f, AuditExportOptions(format: .jsonl, since: "2999-01-01T00:00:00.000Z")).0.entries == 0)
        #expect(AuditExportOptions.bound("2026-11-23", end: true) == "2026-11-23T23:59:59.999Z")
        #expect(AuditExportOptions.bound("2026-11-23T10:00:00Z", end: false) == "2026-11-23T10:00:00.000Z")
        #expect(AuditExportOptions.bound("23/11/2026", end: false) == nil)
    }

    @Test func theFHIRExportIsAStructurallyValidBundleOfAuditEvents() throws {
        let f = try AuditFixture()
        let (_, _, text) = try export(f, AuditExportOptions(format: .fhir))
        let bundle = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(bundle["resourceType"] as? String == "Bundle" && bundle["type"] as? String == "collection")
        let entries = try #require(bundle["entry"] as? [[String: Any]])
        #expect(entries.count == 12)
        for e in entries {
            #expect((e["fullUrl"] as? String)?.hasPrefix("urn:uuid:") == true)
            let r = try #require(e["resource"] as? [String: Any])
            #expect(r["resourceType"] as? String == "AuditEvent")
            let type = try #require(r["type"] as? [String: Any])
            #expect(type["system"] as? String == "http://dicom.nema.org/resources/ontology/DCM" && type["code"] is String)
            #expect((r["recorded"] as? String)?.hasSuffix("Z") == true)
            #expect(["C", "R", "U", "D", "E"].contains(r["action"] as? String ?? ""))
            #expect(["0", "4", "8", "12"].contains(r["outcome"] as? String ?? ""))
            let agents = try #require(r["agent"] as? [[String: Any]])
            #expect(!agents.isEmpty && agents.allSatisfy { $0["requestor"] is Bool && $0["who"] != nil })
            let source = try #require(r["source"] as? [String: Any])
            #expect(source["observer"] != nil)
            for entity in (r["entity"] as? [[String: Any]]) ?? [] { #expect(!(entity["name"] != nil && entity["query"] != nil)) }
            // No empty arrays or objects: FHIR JSON forbids them.
            #expect(!text.contains("[]") && !text.contains("{}"))
        }
    }

    @Test func cdsHooksFeedbackCarriesOutcomeReasonAndTimestamp() throws {
        let f = try AuditFixture(entries: 0)
        try f.store.record(AuditFixture.decision(patient: "p", chosen: "sglt2"), audit: AuditFixture.entry(.decisionRecorded, patient: nil))
        try f.store.record(AuditFixture.decision(patient: "p", chosen: "metformin", note: "cheaper"), audit: AuditFixture.entry(.decisionRecorded, patient: nil))
        let (_, _, text) = try export(f, AuditExportOptions(format: .cdsHooks))
        let body = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let items = try #require(body["feedback"] as? [[String: Any]])
        #expect(items.count == 2)
        #expect(items[0]["outcome"] as? String == "accepted" && (items[0]["acceptedSuggestions"] as? [[String: Any]])?.count == 1)
        #expect(items[1]["outcome"] as? String == "overridden")
        let reason = try #require(items[1]["overrideReason"] as? [String: Any])
        #expect((reason["reason"] as? [String: Any])?["code"] as? String == "too-costly-uncovered" && reason["userComment"] as? String == "cheaper")
        #expect(items.allSatisfy { ($0["outcomeTimestamp"] as? String)?.hasSuffix("Z") == true && $0["card"] is String })
    }

    @Test func csvQuotesAndDefusesFormulas() {
        #expect(AuditFileFormat.csvField("a,b") == "\"a,b\"")
        #expect(AuditFileFormat.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(AuditFileFormat.csvField("=cmd()") == "'=cmd()")
        #expect(AuditFileFormat.csvField("-1.5") == "-1.5")
    }
}

@Suite struct CanonicalFormTests {
    /// The hand-written canonical writer and Foundation's sorted-key encoder agree, escapes,
    /// control characters and non-ASCII text included.
    @Test func theCanonicalWriterMatchesJSONEncoder() throws {
        let awkward = ["plain", "quote \" and \\ backslash", "slash / and tab\t newline\n cr\r", "bell \u{07} nul \u{00} esc \u{1B} us \u{1F}",
                       "ünïcødé 糖尿病 🩺", "", "del \u{7F}"]
        for (i, text) in awkward.enumerated() {
            for clinician in [nil, text] {
                let e = AuditEntry(seq: i * 1000, recorded: "2026-11-23T05:06:07.089Z", event: AuditEvent.allCases[i % AuditEvent.allCases.count], action: "R",
                                   outcome: i % 2 * 4, clinician: clinician, role: clinician == nil ? nil : "role \(text)", user: text,
                                   patient: i % 3 == 0 ? nil : text, session: "s", detail: [text: text, "a": "b", "z\(text)": ""])
                let expected = String(decoding: try CanonicalJSON.encoder.encode(e), as: UTF8.self)
                #expect(try e.canonical() == expected)
                #expect(try AuditEntry.parse(e.canonical()) == e)
            }
        }
    }
}

@Suite struct FlatJSONTests {
    @Test func readsWhatFoundationReadsAndRefusesTheRest() throws {
        let text = #"{"a":"x\"y\\z\/\n\u00e9\ud83e\ude7a","b":-42,"c":{"k":"v","":""},"d":null,"e":true,"f":"ü"}"#
        let o = try #require(FlatJSON.parse(text))
        let f = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(o["a"] == .string(f["a"] as! String))
        #expect(o["b"] == .int(-42) && o["c"] == .object(["k": "v", "": ""]) && o["d"] == .null && o["e"] == .bool(true) && o["f"] == .string("ü"))
        for bad in [#"{"a":1.5}"#, #"{"a":"x"} trailing"#, #"{"a":"unterminated}"#, #"{"a":[1]}"#, #"{"a":"\ud800"}"#, "{\"a\":\"raw\u{01}\"}", #"{"a":99999999999999999999}"#, ""] {
            #expect(FlatJSON.parse(bad) == nil, "\(bad)")
        }
    }
}
