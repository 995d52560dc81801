import Foundation
import Patients

/// Generates the synthetic demo cohort: adults with type 2 diabetes followed over years of
/// visits, with comorbidities, labs and a treatment history whose effects show in later visits.
///
/// Patient `i` of seed `s` depends on nothing else, so a cohort can be generated in batches
/// (streaming) and is identical every time. See `docs/cohort.md` for every modelling choice.
/// All of it is synthetic: no real person is described.
public struct CohortGenerator: Sendable {
    /// Written into the store with the cohort, so a changed generator is visible.
    public static let version = "rounds-cohort-2"
    public static let defaultSeed: UInt64 = 20_240_601
    /// 20,000: at 5,000 the test split held 12–24 patients of each rare option, too few to
    /// learn them or to tell the model from its baselines (see the model card).
    public static let defaultSize = 20_000

    public let seed: UInt64
    let simulator = ResponseSimulator()

    public init(seed: UInt64 = CohortGenerator.defaultSeed) { self.seed = seed }

    static let noiseSalt: UInt64 = 0x6F75_7463_6F6D_6573

    /// The id of patient `index` (0-based): `demo-00001` onward.
    public static func patientID(_ index: Int) -> String { String(format: "demo-%05d", index + 1) }

    /// Generates patient `index`.
    public func patient(_ index: Int) -> GeneratedPatient {
        // The outcome noise comes from a second stream of its own, so that adding it left every
        // other draw of the patient's stream where it was.
        var sim = HistorySimulation(rng: SplitMix(seed: seed, stream: UInt64(index)), noise: SplitMix(seed: seed ^ Self.noiseSalt, stream: UInt64(index)),
                                    simulator: simulator)
        return sim.run(id: Self.patientID(index))
    }
}

/// One generated patient with the simulator's truth about them.
public struct GeneratedPatient: Sendable {
    public var record: PatientRecord
    public var traits: LatentTraits
    /// The observable state at the index visit (the last one).
    public var indexState: PatientState
    /// Utility of each option at the index visit, in `ResponseSimulator.treatments` order.
    public var utilities: [Double]
    /// The option with the best simulated outcome at the index visit.
    public var label: String
    /// The best option at every visit, as an index into `ResponseSimulator.treatments`: what a
    /// decision at that visit, knowing the history up to it, should have been. The last is `label`.
    public var visitLabels: [Int]
    /// The utility of every option at every visit (`ResponseSimulator.treatments` order), of
    /// which `visitLabels` are the argmax: what training's soft targets are made of at every
    /// decision point. The last is `utilities`.
    public var visitUtilities: [[Double]]
}

/// The codes the generator writes; all of them are in the knowledge pack or reported as unmapped.
enum CohortCodes {
    static let hba1c = ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%")
    static let glucose = ("1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma", "mg/dL")
    static let egfr = ("33914-3", "Glomerular filtration rate/1.73 sq M.predicted", "mL/min/{1.73_m2}")
    static let creatinine = ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL")
    static let uacr = ("9318-7", "Albumin/Creatinine [Mass Ratio] in Urine", "mg/g")
    static let ldl = ("18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "mg/dL")
    static let potassium = ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L")
    static let alt = ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L")
    static let bmi = ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2")
    static let weight = ("29463-7", "Body weight", "kg")
    static let sbp = ("8480-6", "Systolic blood pressure", "mm[Hg]")
    static let dbp = ("8462-4", "Diastolic blood pressure", "mm[Hg]")

    static let diabetes = ("44054006", "Diabetes mellitus type 2")
    static let hypertension = ("59621000", "Essential hypertension")
    static let ascvd = [("22298006", "Myocardial infarction"), ("53741008", "Coronary arteriosclerosis"), ("230690007", "Cerebrovascular accident")]
    static let heartFailure = ("88805009", "Chronic congestive heart failure")
    static let ckdByStage = [3: ("433144002", "Chronic kidney disease stage 3"), 4: ("431857002", "Chronic kidney disease stage 4"),
                             5: ("433146000", "Chronic kidney disease stage 5")]
    static let obesity = ("162864005", "Body mass index 30+ - obesity")
    static let pancreatitis = ("197456007", "Acute pancreatitis")
    static let medullaryThyroid = ("255032005", "Medullary thyroid carcinoma")
    static let hypoglycaemia = ("302866003", "Hypoglycemia")
    static let pregnancy = ("77386006", "Pregnancy")

    /// RxNorm ingredient codes (as in treatments.yaml) and a display per option.
    static let drugs: [String: [(String, String)]] = [
        "metformin": [("6809", "Metformin hydrochloride 1000 MG Oral Tablet")],
        "sglt2": [("1545653", "Empagliflozin 10 MG Oral Tablet"), ("1488564", "Dapagliflozin 10 MG Oral Tablet")],
        "glp1": [("1991302", "Semaglutide 1 MG/DOSE Pen Injector"), ("475968", "Liraglutide 6 MG/ML Pen Injector"), ("1551291", "Dulaglutide 1.5 MG/0.5 ML Pen Injector")],
        "dpp4": [("593411", "Sitagliptin 100 MG Oral Tablet"), ("1100699", "Linagliptin 5 MG Oral Tablet"), ("857974", "Saxagliptin 5 MG Oral Tablet")],
        "sulfonylurea": [("4821", "Glipizide 5 MG Oral Tablet"), ("25789", "Glimepiride 2 MG Oral Tablet")],
        "tzd": [("33738", "Pioglitazone 30 MG Oral Tablet")],
        "basal_insulin": [("274783", "Insulin glargine 100 UNT/ML Injectable Solution")],
    ]
    static let lisinopril = ("29046", "Lisinopril 10 MG Oral Tablet")
    static let atorvastatin = ("83367", "Atorvastatin 40 MG Oral Tablet")
}

/// Walks one patient through their years of visits.
struct HistorySimulation {
    var rng: SplitMix
    /// The outcome noise's own stream (`LatentTraits.responseFactors`, `.unexplained`).
    var noise: SplitMix
    let simulator: ResponseSimulator
    static let year = 365.2425 * 86400.0
    static let day = 86400.0

    init(rng: SplitMix, noise: SplitMix, simulator: ResponseSimulator) { self.rng = rng; self.noise = noise; self.simulator = simulator }

    mutating func run(id: String) -> GeneratedPatient {
        let female = rng.chance(0.48)
        let visitCount = min(40, 3 + Int(38 * pow(rng.uniform(), 1.15)))
        // Visit dates, backwards from an index visit in the year to mid-2025.
        let index = ClinicalCalendar.day(2025, 6, 30).addingTimeInterval(-Double(rng.int(0...364)) * Self.day + Double(rng.int(8 * 60...17 * 60)) * 60)
        var dates = [index]
        for _ in 1..<visitCount {
            dates.append(dates.last!.addingTimeInterval(-Double(rng.int(70...250)) * Self.day - Double(rng.int(-90...90)) * 60))
        }
        dates.reverse()
        let historyYears = index.timeIntervalSince(dates[0]) / Self.year
        var ageIndex = min(max(rng.normal(63, 11), 30), 88)
        if ageIndex - historyYears < 25 { ageIndex = min(25 + historyYears, 90) }
        let birth = index.addingTimeInterval(-ageIndex * Self.year - Double(rng.int(0...360)) * Self.day)
        let birthDay = ClinicalCalendar.parse(ClinicalCalendar.dayString(birth))!
        func age(_ d: Date) -> Double { d.timeIntervalSince(birthDay) / Self.year }
        let ageFirst = age(dates[0])

        // Latent traits.
        let ckdProne = rng.chance(min(0.22 + 0.004 * (ageIndex - 50), 0.45))
        let beta = rng.normal()
        let traits = LatentTraits(
            betaCellReserve: beta, insulinResistance: rng.normal(), incretinResponse: rng.normal(),
            hypoglycaemiaSusceptibility: pow(rng.uniform(), 1.5), weightGainProneness: rng.normal(),
            gastrointestinalIntolerance: rng.chance(0.15),
            progression: 0.08 + 0.16 * rng.uniform() + 0.1 * max(0, -beta),
            egfrDecline: ckdProne ? rng.uniform(2, 5.5) : rng.uniform(0.2, 1.5),
            responseFactors: (0..<LatentTraits.drugOptions).map { _ in exp(noise.normal(0, 0.15)) },
            unexplained: (0..<LatentTraits.drugOptions).map { _ in noise.normal(0, 0.1) })

        // Baseline physiology.
        var egfr = min(max(rng.normal(100 - 0.75 * (ageFirst - 30), 12), 30), 125)
        if ckdProne && rng.chance(0.4) { egfr = min(egfr, rng.uniform(35, 70)) }
        let uacrBase = exp(rng.normal(log(8), 0.7)) * (ckdProne ? 3 : 1)
        let height = female ? rng.normal(1.62, 0.07) : rng.normal(1.76, 0.07)
        let bmi0 = min(max(rng.normal(31.5, 5.5), 19), 55)
        var weight = bmi0 * height * height
        let u0 = min(max(rng.normal(7.8, 1.1), 6.2), 12)
        // Most patients come to the index visit for a therapy review after a recent rise.
        let indexRise = rng.chance(0.65) ? rng.uniform(0.3, 2.2) : 0
        let ldlBase = min(max(rng.normal(105, 30), 40), 240)
        let altBase = exp(rng.normal(log(24), 0.35))

        // Comorbidities: (onset visit index or -1 for before the first visit).
        func onsetVisit(_ pBefore: Double) -> Int { rng.chance(pBefore) ? -1 : rng.int(0...(visitCount - 1)) }
        let male = !female
        let hasHTN = rng.chance(min(max(0.3 + 0.008 * (ageIndex - 40), 0.2), 0.85))
        let htnAt = onsetVisit(0.7)
        let hasASCVD = rng.chance(min(max(0.08 + 0.006 * (ageIndex - 45) + (male ? 0.06 : 0), 0.03), 0.5))
        let ascvdAt = onsetVisit(0.5)
        let ascvdCode = CohortCodes.ascvd[rng.int(0...2)]
        let hasHF = rng.chance(min(max(0.03 + 0.004 * (ageIndex - 50) + (hasASCVD ? 0.12 : 0), 0.01), 0.4))
        let hfAt = onsetVisit(0.4)
        let hasPancreatitis = rng.chance(0.03)
        let pancreatitisAt = onsetVisit(0.6)
        let hasMTC = rng.chance(0.015)
        var pregnancyAt = -2
        if female {
            let fertile = dates.indices.filter { (20.0...42.0).contains(age(dates[$0])) }
            if !fertile.isEmpty && rng.chance(0.3) { pregnancyAt = fertile[rng.int(0...(fertile.count - 1))] }
        }
        let obesityCoded = rng.chance(0.8)
        let ckdCoded = rng.chance(0.7)

        func beforeFirst() -> Date { dates[0].addingTimeInterval(-rng.uniform(0.2, 8) * Self.year) }
        var conditions: [ConditionEntry] = [ConditionEntry(code: CohortCodes.diabetes.0, display: CohortCodes.diabetes.1, onset: beforeFirst())]
        func addCondition(_ c: (String, String), at visit: Int, lasting: Double? = nil) {
            let onset = visit < 0 ? beforeFirst() : dates[visit].addingTimeInterval(-rng.uniform(1, 40) * Self.day)
            conditions.append(ConditionEntry(code: c.0, display: c.1, onset: onset, abatement: lasting.map { onset.addingTimeInterval($0 * Self.day) }))
        }
        var medications: [MedicationEntry] = []
        if hasHTN {
            addCondition(CohortCodes.hypertension, at: htnAt)
            medications.append(MedicationEntry(code: CohortCodes.lisinopril.0, display: CohortCodes.lisinopril.1, start: conditions.last!.onset))
        }
        if hasASCVD {
            addCondition(ascvdCode, at: ascvdAt)
            medications.append(MedicationEntry(code: CohortCodes.atorvastatin.0, display: CohortCodes.atorvastatin.1, start: conditions.last!.onset))
        }
        if hasHF { addCondition(CohortCodes.heartFailure, at: hfAt) }
        if hasPancreatitis { addCondition(CohortCodes.pancreatitis, at: pancreatitisAt, lasting: 14) }
        if hasMTC { addCondition(CohortCodes.medullaryThyroid, at: -1) }
        if pregnancyAt >= 0 {
            let onset = dates[pregnancyAt].addingTimeInterval(-rng.uniform(30, 150) * Self.day)
            conditions.append(ConditionEntry(code: CohortCodes.pregnancy.0, display: CohortCodes.pregnancy.1, onset: onset, abatement: onset.addingTimeInterval(270 * Self.day)))
        }

        // Therapy: what is being taken, its HbA1c and weight effects, and when it started.
        struct Therapy { var option: String; var entry: Int; var lowering: Double; var weight: Double; var start: Date; var reviewed = false }
        var therapies: [Therapy] = []
        var stoppedForIntolerance = false
        var hypoglycaemiaSeen = false
        var obesityNoted = false
        var ckdNoted = false
        var visits: [Visit] = []
        var lastMeasured: (hba1c: Double, egfr: Double, uacr: Double, bmi: Double) = (u0, egfr, uacrBase, bmi0)
        var previous = dates[0]
        var visitLabels: [Int] = []
        var visitUtilities: [[Double]] = []

        func state(at d: Date, visit k: Int) -> PatientState {
            PatientState(age: age(d), female: female, hba1c: lastMeasured.hba1c, egfr: lastMeasured.egfr, uacr: lastMeasured.uacr, bmi: lastMeasured.bmi,
                         heartFailure: hasHF && (hfAt < 0 || hfAt <= k), ascvd: hasASCVD && (ascvdAt < 0 || ascvdAt <= k),
                         pancreatitis: hasPancreatitis && (pancreatitisAt < 0 || pancreatitisAt <= k), medullaryThyroid: hasMTC,
                         pregnant: conditions.contains { $0.code == CohortCodes.pregnancy.0 && $0.isActive(at: d) },
                         hypoglycaemiaHistory: hypoglycaemiaSeen, current: Set(therapies.map(\.option)))
        }

        for (k, d) in dates.enumerated() {
            let gapYears = d.timeIntervalSince(previous) / Self.year
            previous = d
            let onSGLT2 = therapies.contains { $0.option == "sglt2" }
            egfr = max(egfr - traits.egfrDecline * gapYears * (onSGLT2 ? 0.6 : 1) * (hasHF ? 1.2 : 1), 4)
            let years = d.timeIntervalSince(dates[0]) / Self.year
            let rise = k == visitCount - 1 ? indexRise : 0
            let hba1cTrue = max(u0 + traits.progression * years + rise - therapies.reduce(0) { $0 + $1.lowering }, 4.6)
            weight += rng.normal(0.15, 0.6) * gapYears
            let weightNow = weight + therapies.reduce(0) { $0 + $1.weight * min(d.timeIntervalSince($1.start) / (0.5 * Self.year), 1) }
            let bmi = weightNow / (height * height)

            // Hypoglycaemia on sulfonylurea or insulin since the last visit.
            if k > 0, therapies.contains(where: { $0.option == "sulfonylurea" || $0.option == "basal_insulin" }) {
                let s = state(at: d, visit: k)
                let risk = therapies.filter { $0.option == "sulfonylurea" || $0.option == "basal_insulin" }
                    .map { simulator.hypoglycaemiaRisk($0.option, s, traits) }.max() ?? 0
                if rng.chance(min(risk * gapYears * 1.5, 0.9)) {
                    let onset = d.addingTimeInterval(-rng.uniform(3, 60) * Self.day)
                    conditions.append(ConditionEntry(code: CohortCodes.hypoglycaemia.0, display: CohortCodes.hypoglycaemia.1, onset: onset, abatement: onset.addingTimeInterval(Self.day)))
                    hypoglycaemiaSeen = true
                }
            }

            // Measurements.
            let isIndex = k == visitCount - 1
            var obs: [Observation] = []
            func measure(_ c: (String, String, String), _ value: Double, p: Double, digits: Double = 10) {
                guard rng.chance(p) else { return }
                obs.append(Observation(code: c.0, display: c.1, value: (value * digits).rounded() / digits, unit: c.2, time: d))
            }
            let hba1c = max(hba1cTrue + rng.normal(0, 0.2), 4.5)
            measure(CohortCodes.hba1c, hba1c, p: isIndex ? 1 : 0.93)
            measure(CohortCodes.glucose, max(28.7 * hba1c - 46.7 - 15 + rng.normal(0, 14), 55), p: 0.75, digits: 1)
            let egfrMeasured = max(egfr + rng.normal(0, 3), 3)
            let creatinine = Self.creatinine(fromEGFR: egfrMeasured, age: age(d), female: female)
            let kidney = rng.chance(isIndex ? 0.9 : 0.7)
            if kidney {
                measure(CohortCodes.egfr, egfrMeasured, p: 1)
                measure(CohortCodes.creatinine, creatinine, p: 1, digits: 100)
            }
            let uacr = uacrBase * exp(0.02 * max(0, 90 - egfr)) * exp(rng.normal(0, 0.25))
            measure(CohortCodes.uacr, uacr, p: 0.4)
            measure(CohortCodes.ldl, ldlBase * (hasASCVD ? 0.7 : 1) + rng.normal(0, 8), p: 0.4, digits: 1)
            measure(CohortCodes.potassium, 4.3 + (egfr < 45 ? 0.3 : 0) + rng.normal(0, 0.3), p: 0.5)
            measure(CohortCodes.alt, altBase * exp(rng.normal(0, 0.2)) * (therapies.contains { $0.option == "tzd" } ? 0.85 : 1), p: 0.3, digits: 1)
            let vitals = rng.chance(0.92)
            if vitals {
                measure(CohortCodes.weight, weightNow, p: 1)
                measure(CohortCodes.bmi, bmi, p: 1)
                let sbp = 124 + (hasHTN ? 10 : 0) + 0.25 * (age(d) - 50) + rng.normal(0, 10)
                measure(CohortCodes.sbp, sbp, p: 1, digits: 1)
                measure(CohortCodes.dbp, 0.45 * sbp + 20 + rng.normal(0, 6), p: 1, digits: 1)
            }
            for o in obs {
                switch o.code {
                case CohortCodes.hba1c.0: lastMeasured.hba1c = o.value
                case CohortCodes.egfr.0: lastMeasured.egfr = o.value
                case CohortCodes.uacr.0: lastMeasured.uacr = o.value
                case CohortCodes.bmi.0: lastMeasured.bmi = o.value
                default: break
                }
            }
            visits.append(Visit(id: "\(id)-v\(k + 1)", date: d, kind: k == 0 ? "wellness" : (rng.chance(0.7) ? "ambulatory" : "wellness"), observations: obs))
            // Coded diagnoses follow the numbers (not always: real records miss some).
            if !obesityNoted && bmi >= 30 && vitals && obesityCoded {
                conditions.append(ConditionEntry(code: CohortCodes.obesity.0, display: CohortCodes.obesity.1, onset: d)); obesityNoted = true
            }
            if !ckdNoted && kidney && egfrMeasured < 60 && ckdCoded {
                let stage = egfrMeasured < 15 ? 5 : (egfrMeasured < 30 ? 4 : 3)
                let c = CohortCodes.ckdByStage[stage]!
                conditions.append(ConditionEntry(code: c.0, display: c.1, onset: d)); ckdNoted = true
            }
            let u = simulator.utilities(state: state(at: d, visit: k), traits: traits)
            visitUtilities.append(u)
            visitLabels.append(ResponseSimulator.treatments.firstIndex(of: simulator.best(utilities: u))!)
            if isIndex { break }

            // The historical clinician's decision at this visit (the index visit's is the one to recommend).
            let s = state(at: d, visit: k)
            if stoppedForIntolerance == false, traits.gastrointestinalIntolerance,
               let i = therapies.firstIndex(where: { $0.option == "metformin" && d.timeIntervalSince($0.start) < 0.8 * Self.year && d > $0.start }) {
                medications[therapies[i].entry].end = d
                therapies.remove(at: i)
                stoppedForIntolerance = true
            }
            // A drug that has not worked after months is stopped (tried and failed: visible in the history only).
            for i in therapies.indices.reversed() where !therapies[i].reviewed && d.timeIntervalSince(therapies[i].start) > 0.4 * Self.year {
                therapies[i].reviewed = true
                if therapies[i].lowering < 0.4 && rng.chance(0.7) {
                    medications[therapies[i].entry].end = d
                    therapies.remove(at: i)
                }
            }
            if kidney && egfrMeasured < 30, let i = therapies.firstIndex(where: { $0.option == "metformin" }), rng.chance(0.7) {
                medications[therapies[i].entry].end = d
                therapies.remove(at: i)
            }
            if s.hba1c > 7.2 && rng.chance(0.45) {
                let tried = Set(medications.compactMap { m in CohortCodes.drugs.first { $0.value.contains { $0.0 == m.code } }?.key })
                let weights: [(String, Double)] = [
                    ("metformin", (!tried.contains("metformin") && s.egfr >= 30) ? 6 : 0),
                    ("sulfonylurea", 1.2), ("dpp4", 1.0),
                    ("sglt2", s.egfr >= 30 ? 1.0 + (s.heartFailure || s.egfr < 60 ? 1.5 : 0) : 0),
                    ("glp1", 0.8 + (s.ascvd || s.bmi >= 30 ? 1.0 : 0)),
                    ("tzd", 0.4), ("basal_insulin", 0.4 + (s.hba1c > 9 ? 2.5 : 0)),
                ].filter { o, w in w > 0 && !s.current.contains(o) && !tried.contains(o) }
                if weights.isEmpty { continue }
                let choice = weights[rng.pick(weights: weights.map(\.1))].0
                let drug = CohortCodes.drugs[choice]!
                let (code, display) = drug[rng.int(0...(drug.count - 1))]
                let trueState = PatientState(age: s.age, female: female, hba1c: hba1cTrue, egfr: egfr, uacr: s.uacr, bmi: bmi,
                                             heartFailure: s.heartFailure, ascvd: s.ascvd, pancreatitis: s.pancreatitis, medullaryThyroid: hasMTC,
                                             pregnant: s.pregnant, hypoglycaemiaHistory: s.hypoglycaemiaHistory, current: s.current)
                let intolerant = choice == "metformin" && traits.gastrointestinalIntolerance
                let lowering = intolerant ? 0 : simulator.hba1cLowering(choice, trueState, traits) * min(max(rng.normal(1, 0.1), 0.7), 1.3)
                let start = d.addingTimeInterval(3600)
                medications.append(MedicationEntry(code: code, display: display, start: start))
                therapies.append(Therapy(option: choice, entry: medications.count - 1, lowering: lowering,
                                         weight: ResponseSimulator.weightChange[choice]! * (1 + 0.2 * traits.weightGainProneness), start: start))
            }
        }
        let indexState = state(at: index, visit: visitCount - 1)
        let utilities = simulator.utilities(state: indexState, traits: traits)
        let best = ResponseSimulator.treatments.firstIndex(of: simulator.best(utilities: utilities))!
        conditions.sort { ($0.onset, $0.code) < ($1.onset, $1.code) }
        medications.sort { ($0.start, $0.code) < ($1.start, $1.code) }
        let record = PatientRecord(id: id, sex: female ? .female : .male, birthDate: birthDay, origin: .synthetic,
                                   visits: visits, conditions: conditions, medications: medications)
        precondition(visitLabels.last == best && visitUtilities.last == utilities, "the index visit's label is the best option")
        return GeneratedPatient(record: record, traits: traits, indexState: indexState, utilities: utilities,
                                label: ResponseSimulator.treatments[best], visitLabels: visitLabels, visitUtilities: visitUtilities)
    }

    /// Serum creatinine (mg/dL) that gives `egfr` by the CKD-EPI 2021 equation.
    static func creatinine(fromEGFR egfr: Double, age: Double, female: Bool) -> Double {
        let kappa = female ? 0.7 : 0.9, alpha = female ? -0.241 : -0.302
        let base = 142 * pow(0.9938, age) * (female ? 1.012 : 1)
        let ratio = egfr / base
        // Above kappa the exponent is -1.200; below it, alpha.
        let high = pow(ratio, -1 / 1.200)
        if high >= 1 { return kappa * high }
        return kappa * pow(ratio, 1 / alpha)
    }
}
