import Foundation
import Testing
@testable import Guidelines
import Patients
import TestSupport

/// Builds patients with exactly the facts a rule reads.
struct Vignette {
    var age = 60
    var sex: Sex = .male
    var labs: [(code: String, value: Double, unit: String, daysBefore: Double)] = []
    var conditions: [String] = []            // SNOMED codes
    var medications: [(code: String, display: String)] = []

    static let index = ClinicalCalendar.day(2024, 6, 1)

    var record: PatientRecord {
        let birth = Calendar(identifier: .gregorian).date(byAdding: .year, value: -age, to: Self.index)!.addingTimeInterval(-86400)
        var visits: [Visit] = []
        for (i, lab) in labs.enumerated() {
            let t = Self.index.addingTimeInterval(-lab.daysBefore * 86400)
            visits.append(Visit(id: "v\(i)", date: t, kind: "lab", observations: [Observation(code: lab.code, display: lab.code, value: lab.value, unit: lab.unit, time: t)]))
        }
        visits.append(Visit(id: "index", date: Self.index, kind: "review", observations: [Observation(code: "8480-6", display: "SBP", value: 130, unit: "mm[Hg]", time: Self.index)]))
        visits.sort { $0.date < $1.date }
        return PatientRecord(id: "vignette", sex: sex, birthDate: birth, origin: .imported, visits: visits,
                             conditions: conditions.map { ConditionEntry(code: $0, display: $0, onset: Self.index.addingTimeInterval(-400 * 86400)) },
                             medications: medications.map { MedicationEntry(code: $0.code, display: $0.display, start: Self.index.addingTimeInterval(-300 * 86400)) })
    }

    static func egfr(_ v: Double, daysBefore: Double = 10) -> (String, Double, String, Double) { ("33914-3", v, "mL/min/{1.73_m2}", daysBefore) }
    static func hba1c(_ v: Double, daysBefore: Double = 10) -> (String, Double, String, Double) { ("4548-4", v, "%", daysBefore) }
    static func bmi(_ v: Double, daysBefore: Double = 10) -> (String, Double, String, Double) { ("39156-5", v, "kg/m2", daysBefore) }
    static func glucose(_ v: Double, daysBefore: Double = 10) -> (String, Double, String, Double) { ("2345-7", v, "mg/dL", daysBefore) }

    static let heartFailure = "88805009", myocardialInfarction = "22298006", mtc = "255032005", pancreatitis = "75694006"
    static let hypoglycaemia = "302866003", pregnancy = "77386006"
    static let insulin = ("274783", "insulin glargine 100 UNT/ML"), dulaglutide = ("1551291", "dulaglutide 1.5 MG/0.5ML")
    static let glipizide = ("4821", "glipizide 5 MG"), empagliflozin = ("1545653", "empagliflozin 10 MG"), metformin = ("6809", "metformin 500 MG")
}

@Suite struct GuidelineTests {
    static let book = try! RuleBook(pack: TestSupport.pack)
    let checker = GuidelineChecker(book: GuidelineTests.book)

    func report(_ v: Vignette) -> GuidelineChecker.Report { checker.check(PatientFacts(record: v.record, pack: TestSupport.pack)) }
    func fired(_ v: Vignette) -> Set<String> { Set(report(v).findings.filter { $0.status == .fired }.map(\.rule)) }

    @Test func theKnowledgeBaseLintsClean() throws {
        #expect(Self.book.rules.count >= 20)
        for r in Self.book.rules { #expect(!r.references.isEmpty && r.line > 0) }
    }

    @Test(arguments: [(19.9, true), (20, true), (29.9, true), (30, false), (44.9, false), (45, false)])
    func metforminContraindicatedBelowEGFR30(egfr: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(egfr)]
        #expect(fired(v).contains("kdigo-metformin-stop-egfr-30") == fires)
        #expect((report(v).statuses["metformin"] == .contraindicated) == fires)
    }

    @Test(arguments: [(29.9, false), (30, true), (44.9, true), (45, false)])
    func metforminNotStartedAtEGFR30To45(egfr: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(egfr)]
        #expect(fired(v).contains("ada-metformin-no-start-egfr-30-45") == fires)
        v.medications = [("6809", "metformin 500 MG")]
        #expect(!fired(v).contains("ada-metformin-no-start-egfr-30-45"))
        #expect(fired(v).contains("kdigo-metformin-halve-dose-egfr-30-44") == fires)
    }

    @Test(arguments: [(19.9, false, true), (20, true, false), (29.9, true, false)])
    func sglt2InCKDFromEGFR20(egfr: Double, indicated: Bool, noStart: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(egfr)]
        #expect(fired(v).contains("kdigo-sglt2-ckd-egfr-20") == indicated)   // CKD derived from eGFR < 60
        #expect(fired(v).contains("kdigo-sglt2-no-start-below-egfr-20") == noStart)
    }

    @Test(arguments: [(10.0, false), (10.1, true)])
    func insulinAboveHbA1c10(hba1c: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.hba1c(hba1c), Vignette.egfr(80)]
        #expect(fired(v).contains("ada-insulin-severe-hyperglycaemia") == fires)
    }

    @Test func glucoseThresholdKeepsItsUnit() {
        var v = Vignette(); v.labs = [("2345-7", 16.7, "mmol/L", 5), Vignette.egfr(80)]   // 16.7 mmol/L ≈ 300.9 mg/dL
        #expect(fired(v).contains("ada-insulin-severe-hyperglycaemia"))
        v.labs = [("2345-7", 299, "mg/dL", 5), Vignette.egfr(80)]
        #expect(!fired(v).contains("ada-insulin-severe-hyperglycaemia"))
    }

    @Test(arguments: [(64, false), (65, true)])
    func hypoglycaemiaRiskFrom65(age: Int, fires: Bool) {
        var v = Vignette(age: age); v.labs = [Vignette.egfr(80)]
        #expect(fired(v).contains("ada-hypoglycaemia-older-adults") == fires)
        #expect((report(v).statuses["sulfonylurea"] == .caution) == fires)
    }

    @Test func catabolicWeightLossWithHighHbA1cCallsForInsulin() {
        var v = Vignette(); v.labs = [Vignette.egfr(80), Vignette.hba1c(9.4), ("29463-7", 90, "kg", 150), ("29463-7", 85.4, "kg", 5)]
        #expect(fired(v).contains("ada-insulin-catabolic"))                 // 5.1 % down
        v.labs = [Vignette.egfr(80), Vignette.hba1c(9.4), ("29463-7", 90, "kg", 150), ("29463-7", 85.6, "kg", 5)]
        #expect(!fired(v).contains("ada-insulin-catabolic"))                // 4.9 % down
        v.labs = [Vignette.egfr(80), Vignette.hba1c(9.4), ("29463-7", 85, "kg", 5)]
        #expect(report(v).findings.first { $0.rule == "ada-insulin-catabolic" }?.status == .unknown)   // one weight: cannot tell
    }

    @Test func missingOrStaleEGFRIsSaidNeverPassed() {
        var v = Vignette()
        let missing = report(v).findings.first { $0.rule == "ada-metformin-egfr-unknown" }
        #expect(missing?.message.contains("eGFR unknown") == true && missing?.message.contains("recheck before metformin or an SGLT2 inhibitor") == true)
        v.labs = [Vignette.egfr(25, daysBefore: 400)]                      // 13 months old: stale
        let r = report(v)
        #expect(r.findings.contains { $0.rule == "ada-metformin-egfr-unknown" })
        let stale = r.findings.first { $0.rule == "kdigo-metformin-stop-egfr-30" }
        #expect(stale?.status == .unknown && stale?.missing == ["egfr"])
        #expect(r.statuses["metformin"] == .recheck)
        v.labs = [Vignette.egfr(25, daysBefore: 300)]
        #expect(report(v).statuses["metformin"] == .contraindicated)
    }

    @Test func contraindicationsAndIndicationsByCondition() {
        var v = Vignette(); v.labs = [Vignette.egfr(70)]
        v.conditions = ["88805009"]                                         // heart failure
        var r = report(v)
        #expect(r.statuses["tzd"] == .contraindicated && r.statuses["sglt2"] == .indicated && r.statuses["dpp4"] == .caution)
        v.conditions = ["255032005"]                                        // MTC / MEN2
        #expect(report(v).statuses["glp1"] == .contraindicated)
        v.conditions = ["22298006"]                                         // MI: ASCVD
        r = report(v)
        #expect(r.statuses["glp1"] == .indicated && r.statuses["sglt2"] == .indicated)
        v.sex = .female; v.conditions = ["77386006"]                         // pregnancy
        r = report(v)
        for t in ["sglt2", "glp1", "tzd", "dpp4", "sulfonylurea"] { #expect(r.statuses[t] == .contraindicated) }
        #expect(r.statuses["basal_insulin"] == .indicated)
    }

    @Test func messagesCarryThePatientsValues() {
        var v = Vignette(); v.labs = [Vignette.egfr(24.3)]
        let f = report(v).findings.first { $0.rule == "kdigo-metformin-stop-egfr-30" }!
        #expect(f.message.contains("24.3 mL/min/1.73m2") && f.message.contains("2024-05-22"))
        #expect(f.evidence.first?.feature == "egfr" && f.evidence.first?.date == "2024-05-22")
        #expect(f.references.contains { $0.recommendation == "4.1.1" && $0.checkedIn != nil })
    }

    @Test func clinicalTimeNotTheWallClock() {
        // The vignette's index visit is in 2024: an eGFR 10 days before it is recent, however
        // long ago that is today.
        var v = Vignette(); v.labs = [Vignette.egfr(25)]
        #expect(fired(v).contains("kdigo-metformin-stop-egfr-30"))
    }
}

@Suite struct ConditionLanguageTests {
    let parser = ConditionParser(pack: TestSupport.pack)

    @Test func parsesWhatAGuidelineSays() throws {
        #expect(try parser.parse("egfr < 30 within 12 months") == .compare(feature: "egfr", op: .less, value: 30, windowDays: 12 * 30.4375))
        #expect(try parser.parse("hba1c > 10 %") == .compare(feature: "hba1c", op: .greater, value: 10, windowDays: nil))
        let mmol = try parser.parse("hba1c >= 86 mmol/mol")
        if case .compare(_, _, let v, _) = mmol { #expect(abs(v - (86 * 0.09148 + 2.152)) < 1e-9) } else { Issue.record("\(mmol)") }
        #expect(try parser.parse("has ckd and not taking sglt2 or age >= 65") ==
                .or(.and(.has("ckd"), .not(.taking("sglt2"))), .age(op: .greaterOrEqual, value: 65)))
        #expect(try parser.parse("(has ckd or has heart_failure) and female") == .and(.or(.has("ckd"), .has("heart_failure")), .female))
    }

    @Test(arguments: [
        ("egfr <", "ends too early"),
        ("egrf < 30", "unknown value 'egrf' (did you mean 'egfr'?)"),
        ("has heart_falure", "did you mean 'heart_failure'?"),
        ("taking sglt3", "unknown treatment 'sglt3'"),
        ("hba1c > 10 g/L", "unit 'g/L'"),
        ("egfr < 30 within 12 fortnights", "days, months or years"),
        ("has ckd ckd", "unexpected 'ckd'"),
        ("", "empty"),
    ])
    func errorsSayWhatAndWhere(text: String, expected: String) {
        do { _ = try parser.parse(text); Issue.record("parsed '\(text)'") } catch let e as ConditionError {
            #expect(e.message.contains(expected), "\(e)")
            #expect(e.column >= 1)
        } catch { Issue.record("\(error)") }
    }

    @Test func unreachableConditionsAreFound() throws {
        #expect(Lint.unreachable(try parser.parse("egfr < 20 and egfr > 30")) != nil)
        #expect(Lint.unreachable(try parser.parse("egfr < 30 and egfr >= 30")) != nil)
        #expect(Lint.unreachable(try parser.parse("egfr >= 30 and egfr < 45")) == nil)
    }

    @Test func brokenRuleFilesNameFileLineAndRule() throws {
        let dir = TestSupport.temporaryDirectory()
        try """
        rules:
          - id: a-rule
            title: A rule
            kind: caution
            severity: warning
            applies_to: [metformin]
            when: egfr < 30
            message: ok
            references: [{organization: X, document: Y}]
          - id: a-rule
            title: Same id
            kind: caution
            severity: loud
            applies_to: [metformin]
            when: egfr < 30
            message: m
            references: [{organization: X, document: Y}]
          - id: no-refs
            title: T
            kind: indication
            severity: info
            applies_to: [aspirin]
            when: egfr < 20 and egfr > 30
            message: m
        """.write(to: dir.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
        do { _ = try RuleBook(pack: TestSupport.pack, directory: dir); Issue.record("loaded a broken file") } catch let e as RuleBook.Problems {
            let text = e.description
            #expect(text.contains("bad.yaml:13: a-rule: severity 'loud'"))
            #expect(text.contains("no-refs: unknown treatment 'aspirin'"))
            #expect(text.contains("no-refs: when can never hold"))
            #expect(text.contains("no-refs: missing 'references'"))
        }
        try "rules: [oops".write(to: dir.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
        #expect(throws: RuleBook.Problems.self) { try RuleBook(pack: TestSupport.pack, directory: dir) }
    }
}

@Suite struct GuidelineRecommenderTests {
    let recommender = GuidelineRecommender(book: GuidelineTests.book)
    func choice(_ v: Vignette) -> String { recommender.recommend(PatientFacts(record: v.record, pack: TestSupport.pack)).choice }

    @Test func indicationsFirstContraindicationsExcluded() {
        var v = Vignette(); v.labs = [Vignette.egfr(70), Vignette.hba1c(7.8)]
        v.conditions = ["88805009"]                                  // heart failure → SGLT2 inhibitor
        #expect(choice(v) == "sglt2")
        v.medications = [("1545653", "empagliflozin")]              // already taken: the next indication or need
        #expect(choice(v) != "sglt2" && choice(v) != "tzd")
        v = Vignette(); v.labs = [Vignette.egfr(80), Vignette.hba1c(6.6)]
        #expect(choice(v) == "no_change")                           // at target, nothing indicated
        v.labs = [Vignette.egfr(80), Vignette.hba1c(8.4)]
        #expect(choice(v) == "metformin")                           // above target, nothing indicated
        v.labs = [Vignette.egfr(25), Vignette.hba1c(8.4)]
        #expect(choice(v) == "glp1")                                // eGFR < 30: GLP-1 RA preferred (two indications), metformin contraindicated
        v = Vignette(sex: .female); v.labs = [Vignette.egfr(90), Vignette.hba1c(8.4)]; v.conditions = ["77386006"]
        #expect(choice(v) == "basal_insulin")                       // pregnancy
        let d = recommender.recommend(PatientFacts(record: v.record, pack: TestSupport.pack)).distribution
        #expect(abs(d.reduce(0, +) - 1) < 1e-12 && d.firstIndex(of: d.max()!) == 6)
        // Heart failure on insulin: the ketoacidosis caution no longer hides the SGLT2 indication.
        v = Vignette(); v.labs = [Vignette.egfr(70), Vignette.hba1c(8.2)]
        v.conditions = [Vignette.heartFailure]; v.medications = [Vignette.insulin]
        #expect(choice(v) == "sglt2")
    }
}
