import Foundation
import Testing
@testable import Cohort
import Patients
import TestSupport

@Suite struct CohortGeneratorTests {
    let generator = CohortGenerator(seed: 7)
    let pack = TestSupport.pack

    @Test func sameSeedSamePatientsInAnyOrder() {
        let forward = (0..<50).map { generator.patient($0).record }
        let backward = (0..<50).reversed().map { CohortGenerator(seed: 7).patient($0).record }.reversed()
        #expect(forward == Array(backward))
        #expect(CohortGenerator(seed: 8).patient(0).record != forward[0])
        #expect(forward[0].id == "demo-00001" && forward[49].id == "demo-00050")
    }

    @Test func recordsAreWellFormedAndSpeakThePacksCodes() {
        for i in 0..<300 {
            let p = generator.patient(i)
            let r = p.record
            #expect((3...40).contains(r.visits.count))
            #expect(r.visits.map(\.date) == r.visits.map(\.date).sorted())
            #expect(r.origin == .synthetic)
            let age = r.age(at: r.visits.last!.date)
            #expect((25...90).contains(age), "\(r.id) aged \(age)")
            for o in r.visits.flatMap(\.observations) {
                guard case .value = pack.features.measure(o) else { Issue.record("\(r.id): \(o.code) \(o.value) \(o.unit) is not a usable value"); continue }
            }
            for c in r.conditions where c.code != "44054006" {
                #expect(pack.features.conditionFeature(code: c.code, display: c.display) != nil, "\(c.code) \(c.display)")
            }
            for m in r.medications where !["29046", "83367"].contains(m.code) {
                #expect(pack.treatments.map(code: m.code, display: m.display)?.matchedBy == .code, "\(m.code) \(m.display)")
            }
            #expect(p.label == ResponseSimulator.treatments[p.utilities.indices.max { p.utilities[$0] < p.utilities[$1] }!])
            #expect(p.visitLabels.count == r.visits.count && ResponseSimulator.treatments[p.visitLabels.last!] == p.label)
            #expect(p.visitUtilities.count == r.visits.count && p.visitUtilities.last == p.utilities)
            // The index visit measures HbA1c.
            #expect(r.visits.last!.observations.contains { $0.code == "4548-4" })
        }
    }

    @Test func everyTreatmentIsSometimesBest() {
        var counts: [String: Int] = [:]
        for i in 0..<3000 { counts[generator.patient(i).label, default: 0] += 1 }
        for t in ResponseSimulator.treatments { #expect(counts[t, default: 0] >= 15, "\(t): \(counts[t, default: 0]) of 3000") }
    }

    @Test func treatmentEffectsShowInLaterVisits() {
        // Across patients, HbA1c falls after a glucose-lowering drug is started.
        var before: [Double] = [], after: [Double] = []
        for i in 0..<400 {
            let r = generator.patient(i).record
            for m in r.medications where ["6809", "1545653", "1991302", "593411", "4821", "33738", "274783"].contains(m.code) {
                let prev = r.visits.last { $0.date < m.start }?.observations.first { $0.code == "4548-4" }
                let next = r.visits.first { $0.date > m.start.addingTimeInterval(60 * 86400) }?.observations.first { $0.code == "4548-4" }
                if let p = prev, let n = next { before.append(p.value); after.append(n.value) }
            }
        }
        #expect(before.count > 100)
        let meanDrop = zip(before, after).map { $0 - $1 }.reduce(0, +) / Double(before.count)
        #expect(meanDrop > 0.3, "mean HbA1c drop after starting a drug: \(meanDrop)")
    }

    @Test func creatinineInvertsCKDEPI2021() {
        func egfr(_ scr: Double, age: Double, female: Bool) -> Double {
            let k = female ? 0.7 : 0.9, a = female ? -0.241 : -0.302
            return 142 * pow(min(scr / k, 1), a) * pow(max(scr / k, 1), -1.2) * pow(0.9938, age) * (female ? 1.012 : 1)
        }
        for e in [8.0, 25, 44.9, 60, 90, 110] {
            for female in [true, false] {
                let scr = HistorySimulation.creatinine(fromEGFR: e, age: 61, female: female)
                #expect(abs(egfr(scr, age: 61, female: female) - e) < 1e-6)
            }
        }
    }
}

@Suite struct ResponseSimulatorTests {
    let sim = ResponseSimulator()
    let average = LatentTraits(betaCellReserve: 0, insulinResistance: 0, incretinResponse: 0, hypoglycaemiaSusceptibility: 0.2,
                               weightGainProneness: 0, gastrointestinalIntolerance: false, progression: 0.1, egfrDecline: 1)
    func state(hba1c: Double = 8.5, egfr: Double = 80, hf: Bool = false, ascvd: Bool = false, age: Double = 60,
               current: Set<String> = ["metformin"], pregnant: Bool = false, mtc: Bool = false) -> PatientState {
        PatientState(age: age, female: pregnant, hba1c: hba1c, egfr: egfr, uacr: 10, bmi: 28, heartFailure: hf, ascvd: ascvd,
                     pancreatitis: false, medullaryThyroid: mtc, pregnant: pregnant, hypoglycaemiaHistory: false, current: current)
    }

    @Test func handComputedUtilityOfAnSGLT2InhibitorInHeartFailure() {
        let s = state(hba1c: 7.6, egfr: 50, hf: true)
        let o = sim.outcome(of: "sglt2", state: s, traits: average)
        // lowering = 0.65 * (1 + 0.75 tanh 0) * clamp((7.6-5.5)/2.5 = 0.84) = 0.546 (eGFR 50: full effect)
        #expect(abs(-o.hba1cChange - 0.65 * 0.84) < 1e-12)
        // risk removed: 0.30 * 0.06 (HF) + 0.30 * 0.04 (eGFR < 60) = 0.030
        #expect(abs(o.cardiorenalRiskReduction - 0.030) < 1e-12)
        // utility: 1.5*min(0.546, 0.6) - 2*0.01 - 0.04*(-2)*0.5 + 25*0.03 - 0 - 0.2
        let expected = 1.5 * 0.546 - 0.02 + 0.04 + 0.75 - 0.2
        #expect(abs(sim.utility(o, state: s) - expected) < 1e-9)
        #expect(sim.best(state: s, traits: average) == "sglt2")
    }

    @Test func contraindicatedChoicesAreHarmful() {
        #expect(sim.outcome(of: "metformin", state: state(egfr: 25, current: []), traits: average).harm >= 3)
        #expect(sim.outcome(of: "glp1", state: state(mtc: true), traits: average).harm >= 3)
        #expect(sim.outcome(of: "tzd", state: state(hf: true), traits: average).harm >= 2.5)
        #expect(sim.outcome(of: "sglt2", state: state(egfr: 15), traits: average).cardiorenalRiskReduction == 0)
        #expect(sim.best(state: state(hba1c: 8.5, egfr: 25, current: []), traits: average) != "metformin")
        #expect(sim.best(state: state(hba1c: 9, pregnant: true), traits: average) == "basal_insulin")
    }

    @Test func anOptionAlreadyTakenAddsNothing() {
        let o = sim.outcome(of: "metformin", state: state(), traits: average)
        #expect(o.alreadyTaking && o.hba1cChange == 0)
        #expect(sim.utility(o, state: state()) < sim.utility(sim.outcome(of: "no_change", state: state(), traits: average), state: state()))
    }

    @Test func sharedFactorsLinkResponses() {
        var t = average
        t.insulinResistance = 1.5
        // 1 + 0.75 tanh(z): metformin z = 0.8·0 + 0.4·1.5 = 0.6, TZD z = 1.0·1.5.
        #expect(abs(sim.responsiveness("metformin", t) - (1 + 0.75 * tanh(0.6))) < 1e-12 && abs(sim.responsiveness("tzd", t) - (1 + 0.75 * tanh(1.5))) < 1e-12)
        t.betaCellReserve = -1.5
        #expect(sim.responsiveness("sulfonylurea", t) < 0.4 && sim.responsiveness("basal_insulin", t) > 1.4)
        #expect(abs(sim.responsiveness("dpp4", t) - (1 + 0.75 * tanh(0.9 * -1.5))) < 1e-12)
        // Beta-cell reserve shows in the metformin response: z = 0.8·(−1.5) + 0.4·1.5.
        #expect(abs(sim.responsiveness("metformin", t) - (1 + 0.75 * tanh(-0.6))) < 1e-12)
    }

    @Test func loweringIsBoundedByWhatTrialsReportForTheClass() {
        // However responsive and however high the HbA1c, no class lowers beyond its maximum
        // (demo-06972 of the first cohort fell about 20 points on a GLP-1 RA).
        let extreme = LatentTraits(betaCellReserve: 4, insulinResistance: 4, incretinResponse: 6, hypoglycaemiaSusceptibility: 0,
                                   weightGainProneness: 0, gastrointestinalIntolerance: false, progression: 0.1, egfrDecline: 1,
                                   responseFactors: [Double](repeating: 1.6, count: 7))
        let s = state(hba1c: 14, current: [])
        for t in ResponseSimulator.treatments where t != "no_change" {
            let lowering = sim.hba1cLowering(t, s, extreme)
            #expect(lowering == ResponseSimulator.maximumLowering[t]! || t == "basal_insulin", "\(t): \(lowering)")
            #expect(lowering <= ResponseSimulator.maximumLowering[t]!)
        }
        // Basal insulin with b = 4 responds less (z = -0.6·4): 1.5 * (1 + 0.75 tanh(-2.4)) * 1.6 * 1.8.
        #expect(abs(sim.hba1cLowering("basal_insulin", s, extreme) - 1.5 * (1 + 0.75 * tanh(-2.4)) * 1.6 * 1.8) < 1e-12)
        // An average patient at 8 % lowers by the class's trial figure.
        for t in ResponseSimulator.treatments { #expect(abs(sim.hba1cLowering(t, state(hba1c: 8, current: []), average) - ResponseSimulator.efficacy[t]!) < 1e-12) }
    }

    @Test func outcomeNoiseMovesTheLowering() {
        var t = average
        t.responseFactors = [1, 1, 1.2, 1, 1, 1, 1]
        t.unexplained = [0, 0, -0.3, 0, 0, 0, 0]
        let s = state(hba1c: 8, current: [])
        let o = sim.outcome(of: "glp1", state: s, traits: t)
        #expect(abs(-o.hba1cChange - 1.2 * 1.2) < 1e-12 && o.unexplained == -0.3)
        let plain = sim.outcome(of: "glp1", state: s, traits: average)
        // The unexplained term adds to the utility; the lowering's part is capped by the gap (1.0 at 8 %).
        #expect(abs(sim.utility(o, state: s) - (sim.utility(plain, state: s) - 0.3 - 0.3 * max(1.44 - 1.0 - 0.5, 0) + 0.3 * max(1.2 - 1.0 - 0.5, 0))) < 1e-12)
        // "No drug change" carries none.
        #expect(sim.outcome(of: "no_change", state: s, traits: t).unexplained == 0)
    }

    @Test func latentTraitsRoundTripThroughTheirStoredForm() {
        let t = LatentTraits(betaCellReserve: -0.3, insulinResistance: 1.2, incretinResponse: 0.1, hypoglycaemiaSusceptibility: 0.7,
                             weightGainProneness: -1, gastrointestinalIntolerance: true, progression: 0.2, egfrDecline: 3.3,
                             responseFactors: [0.9, 1.1, 1, 1.2, 0.8, 1, 1.05], unexplained: [0.1, -0.1, 0, 0.05, 0, 0.2, -0.2])
        #expect(t.values.count == 22 && LatentTraits(values: t.values) == t)
        // A cohort stored before the noise terms (8 values) reads as none.
        let old = LatentTraits(values: Array(t.values.prefix(8)))
        #expect(old.responseFactors == [Double](repeating: 1, count: 7) && old.unexplained == [Double](repeating: 0, count: 7))
    }
}
