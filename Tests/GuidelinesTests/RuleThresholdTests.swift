import Foundation
import Testing
@testable import Guidelines
import Patients
import TestSupport

/// Every rule with a threshold, on both sides of it (semgrep/ruff style: each example is a test).
@Suite struct RuleThresholdTests {
    let checker = GuidelineChecker(book: GuidelineTests.book)
    func report(_ v: Vignette) -> GuidelineChecker.Report { checker.check(PatientFacts(record: v.record, pack: TestSupport.pack)) }
    func fired(_ v: Vignette) -> Set<String> { Set(report(v).findings.filter { $0.status == .fired }.map(\.rule)) }

    @Test(arguments: [(44.9, false), (45, true), (59.9, true), (60, false)])
    func metforminMonitoredAtEGFR45To59(egfr: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(egfr)]; v.medications = [Vignette.metformin]
        #expect(fired(v).contains("kdigo-metformin-monitor-egfr-45-59") == fires)
    }

    /// Continuing metformin at 30–44 is a dose review (monitoring), starting it a caution;
    /// below 30 it is contraindicated whether taken or not.
    @Test(arguments: [(29.9, "CONTRAINDICATED · taken now", "CONTRAINDICATED"), (30, "already taking · caution", "caution"), (44.9, "already taking · caution", "caution"), (45, "already taking", "no rule")])
    func metforminStandingByEGFR(egfr: Double, taken: String, notTaken: String) {
        var v = Vignette(); v.labs = [Vignette.egfr(egfr)]
        #expect(report(v).standing("metformin").label == notTaken)
        v.medications = [Vignette.metformin]
        #expect(report(v).standing("metformin").label == taken)
    }

    @Test(arguments: [(19.9, false), (20, true), (44.9, true), (45, false)])
    func sglt2GlycaemicFloorsByAgent(egfr: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(egfr)]
        #expect(fired(v).contains("label-sglt2-glycaemic-egfr-by-agent") == fires)
        if fires {
            let f = report(v).findings.first { $0.rule == "label-sglt2-glycaemic-egfr-by-agent" }!
            #expect(f.message.contains("dapagliflozin is not recommended for glycaemic control below eGFR 45") && f.message.contains("empagliflozin not below 30"))
        }
        v.medications = [Vignette.empagliflozin]                          // already taken: a rule about starting says nothing
        #expect(!fired(v).contains("label-sglt2-glycaemic-egfr-by-agent"))
    }

    @Test(arguments: [(19.9, false), (20, true), (59.9, true), (60, false)])
    func sglt2ForCKDUpToEGFR60(egfr: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(egfr)]             // CKD derived from eGFR < 60
        #expect(fired(v).contains("kdigo-sglt2-ckd-egfr-20") == fires)
        #expect(fired(v).contains("ada-ckd-glp1") == (egfr < 60))
    }

    @Test(arguments: [(19.9, false), (20, true)])
    func sglt2ForHeartFailureAndASCVDFromEGFR20(egfr: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(egfr), Vignette.hba1c(6.4)]   // HbA1c at target: indicated anyway
        v.conditions = [Vignette.heartFailure]
        #expect(fired(v).contains("ada-sglt2-heart-failure") == fires)
        v.conditions = [Vignette.myocardialInfarction]
        #expect(fired(v).contains("ada-ascvd-sglt2") == fires)
        #expect(fired(v).contains("ada-ascvd-glp1"))                     // GLP-1 RA in ASCVD whatever the eGFR or HbA1c
    }

    @Test(arguments: [(29.9, true), (30, false)])
    func glp1PreferredBelowEGFR30(egfr: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(egfr)]
        #expect(fired(v).contains("ada-glp1-advanced-ckd") == fires)
    }

    @Test(arguments: [(29.9, false), (30, true)])
    func glp1ForObesityFromBMI30(bmi: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(80), Vignette.bmi(bmi)]
        #expect(fired(v).contains("ada-glp1-obesity") == fires)
    }

    @Test(arguments: [(7.0, false), (7.1, true)])
    func glp1InCKDWhenMetforminAndSGLT2AreNotEnough(hba1c: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(50), Vignette.hba1c(hba1c)]
        v.medications = [Vignette.metformin, Vignette.empagliflozin]
        #expect(fired(v).contains("kdigo-glp1-when-metformin-sglt2-not-enough") == fires)
        v.medications = [Vignette.metformin]
        #expect(!fired(v).contains("kdigo-glp1-when-metformin-sglt2-not-enough"))
    }

    @Test(arguments: [(299.0, false), (300, true)])
    func insulinFromGlucose300(glucose: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(80), Vignette.glucose(glucose)]
        #expect(fired(v).contains("ada-insulin-severe-hyperglycaemia") == fires)
    }

    @Test(arguments: [(9.0, false), (9.1, true)])
    func insulinWhenCatabolicAboveHbA1c9(hba1c: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(80), Vignette.hba1c(hba1c), ("29463-7", 90, "kg", 150), ("29463-7", 85, "kg", 5)]
        #expect(fired(v).contains("ada-insulin-catabolic") == fires)
    }

    @Test(arguments: [(64, 6.9, false), (65, 6.9, true), (65, 7.0, false), (80, 6.2, true)])
    func olderAdultBelowGoalIsDeintensified(age: Int, hba1c: Double, fires: Bool) {
        var v = Vignette(age: age); v.labs = [Vignette.egfr(80), Vignette.hba1c(hba1c)]
        v.medications = [Vignette.glipizide]
        #expect(fired(v).contains("ada-older-adult-deintensify-sulfonylurea") == fires)
        #expect((report(v).standing("sulfonylurea").deintensify != nil) == fires)
        v.medications = [Vignette.insulin]
        #expect(fired(v).contains("ada-older-adult-deintensify-insulin") == fires)
        v.medications = []                                                // nothing to deintensify
        #expect(!fired(v).contains("ada-older-adult-deintensify-sulfonylurea") && !fired(v).contains("ada-older-adult-deintensify-insulin"))
    }

    @Test func heartFailureContraindicatesAThiazolidinedione() {
        var v = Vignette(); v.labs = [Vignette.egfr(80)]
        #expect(report(v).standing("tzd").label == "no rule")
        v.conditions = [Vignette.heartFailure]
        let s = report(v).standing("tzd")
        #expect(s.contraindicated && s.against?.rule == "label-tzd-heart-failure")
        #expect(report(v).findings.first { $0.rule == "label-tzd-heart-failure" }?.message.contains("NYHA class III–IV") == true)
    }

    @Test func glp1ContraindicatedWithMTCAndCautionedAfterPancreatitis() {
        var v = Vignette(); v.labs = [Vignette.egfr(80)]
        v.conditions = [Vignette.pancreatitis]
        #expect(report(v).standing("glp1").label == "caution")
        v.conditions = [Vignette.pancreatitis, Vignette.mtc, Vignette.myocardialInfarction]
        #expect(report(v).standing("glp1").label == "CONTRAINDICATED")   // overrides the ASCVD indication and the caution
    }
}

/// What a clinician reads beside each option.
@Suite struct StandingTests {
    let checker = GuidelineChecker(book: GuidelineTests.book)
    func report(_ v: Vignette) -> GuidelineChecker.Report { checker.check(PatientFacts(record: v.record, pack: TestSupport.pack)) }

    /// Heart failure and ASCVD on insulin: the ketoacidosis note used to hide a grade-A indication.
    @Test func anIndicationAndACautionSideBySide() {
        var v = Vignette(); v.labs = [Vignette.egfr(70), Vignette.hba1c(7.6)]
        v.conditions = [Vignette.heartFailure, Vignette.myocardialInfarction]; v.medications = [Vignette.insulin]
        let r = report(v)
        let s = r.standing("sglt2")
        #expect(s.indication != nil && s.against?.status == .caution && s.against?.rule == "label-sglt2-ketoacidosis")
        #expect(s.label == "indicated · caution" && s.indicatedAsAddition)
        #expect(r.statuses["sglt2"] == .caution)                          // the worst finding, as decisions have recorded it
        #expect(["ada-sglt2-heart-failure", "ada-ascvd-sglt2"].contains(s.indication!.rule))
    }

    @Test func anOptionTakenIsAlreadyTakingNeverIndicated() {
        var v = Vignette(); v.labs = [Vignette.egfr(70)]
        v.conditions = [Vignette.myocardialInfarction]; v.medications = [Vignette.dulaglutide]
        let s = report(v).standing("glp1")
        #expect(s.taking && s.indication != nil && !s.indicatedAsAddition)
        #expect(s.label == "already taking" && !s.label.contains("indicated"))
        #expect(report(v).standing("sglt2").label == "indicated")         // the one not taken is
    }

    @Test func aContraindicationOverridesAndSaysWhenTheDrugIsTaken() {
        var v = Vignette(); v.labs = [Vignette.egfr(70)]
        v.conditions = [Vignette.mtc, Vignette.myocardialInfarction]
        #expect(report(v).standing("glp1").parts == ["CONTRAINDICATED"])
        v.medications = [Vignette.dulaglutide]
        #expect(report(v).standing("glp1").parts == ["CONTRAINDICATED", "taken now"])
    }

    @Test func hypoglycaemiaOnASulfonylureaOrInsulinAsksToDeintensify() {
        var v = Vignette(age: 55); v.labs = [Vignette.egfr(70), Vignette.hba1c(7.4)]
        v.conditions = [Vignette.hypoglycaemia]
        var r = report(v)
        #expect(r.deintensifications.isEmpty)                             // hypoglycaemia alone: nothing taken to reduce
        #expect(r.standing("sulfonylurea").label == "caution")
        v.medications = [Vignette.glipizide]
        r = report(v)
        #expect(r.deintensifications.map(\.rule) == ["ada-deintensify-sulfonylurea-hypoglycaemia"])
        #expect(r.standing("sulfonylurea").label == "already taking · deintensify · caution")
        #expect(r.standing("basal_insulin").deintensify == nil)
        v.medications = [Vignette.glipizide, Vignette.insulin]
        r = report(v)
        #expect(Set(r.deintensifications.map(\.rule)) == ["ada-deintensify-sulfonylurea-hypoglycaemia", "ada-deintensify-insulin-hypoglycaemia"])
        #expect(r.standing("basal_insulin").label.hasPrefix("already taking · deintensify"))
        #expect(r.statuses["basal_insulin"] == .caution)
    }

    @Test func undecidableIndicationsTakeNothingAwayMissingFactsAskForARecheck() {
        let v = Vignette()                                                // no eGFR at all
        let s = report(v).standing("metformin")
        #expect(s.indication == nil && s.against?.status == .recheck && s.label == "recheck data")
    }
}

/// Rules on the context facts (coded albuminuria, type 1 diabetes) that are not model inputs.
@Suite struct ContextRuleTests {
    let checker = GuidelineChecker(book: GuidelineTests.book)
    func fired(_ v: Vignette) -> Set<String> { Set(checker.check(PatientFacts(record: v.record, pack: TestSupport.pack)).findings.filter { $0.status == .fired }.map(\.rule)) }

    /// KDIGO's CKD includes albuminuria at a normal eGFR: SGLT2 inhibitor and GLP-1 RA indicated.
    @Test(arguments: [(19.9, false), (20, true), (75, true)])
    func albuminuriaIsCKDForTheCardiorenalIndications(egfr: Double, fires: Bool) {
        var v = Vignette(); v.labs = [Vignette.egfr(egfr)]; v.conditions = ["90781000119102"]   // microalbuminuria due to type 2 diabetes
        #expect(fired(v).contains("kdigo-sglt2-ckd-egfr-20") == fires)
        #expect(fired(v).contains("ada-ckd-glp1"))
        v.conditions = []
        #expect(fired(v).contains("kdigo-sglt2-ckd-egfr-20") == (fires && egfr < 60))
    }

    @Test func type1DiabetesCautionsAnSGLT2Inhibitor() {
        var v = Vignette(); v.labs = [Vignette.egfr(80)]
        #expect(!fired(v).contains("label-sglt2-type1"))
        v.conditions = ["46635009"]
        #expect(fired(v).contains("label-sglt2-type1"))
    }
}
