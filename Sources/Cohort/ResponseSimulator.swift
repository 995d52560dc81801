import Foundation

/// The demo cohort's treatment-response simulator (documented in `docs/cohort.md`).
///
/// For any treatment option at any visit it gives the simulated outcome (HbA1c change,
/// hypoglycaemia risk, weight change, cardiorenal risk reduction, harm of contraindicated
/// choices) from the patient's observable state and latent traits, and scores it by one
/// documented utility. The demo cohort's label is the option of highest utility at the index
/// visit; learning from feedback scores choices with the same function.
public struct ResponseSimulator: Sendable {
    /// The options, in the order of `Knowledge/treatments.yaml`.
    public static let treatments = ["metformin", "sglt2", "glp1", "dpp4", "sulfonylurea", "tzd", "basal_insulin", "no_change"]

    public init() {}

    /// HbA1c lowering (percentage points) of each option for an average responder at HbA1c 8 %:
    /// the class's placebo-adjusted lowering as trials report it (sources in docs/cohort.md).
    public static let efficacy: [String: Double] = [
        "metformin": 1.1, "sglt2": 0.65, "glp1": 1.2, "dpp4": 0.65, "sulfonylurea": 1.1, "tzd": 1.0, "basal_insulin": 1.5, "no_change": 0,
    ]
    /// The most any patient's HbA1c falls on each option (percentage points), however
    /// responsive and however high the HbA1c: the upper end of what trials of the class report
    /// at high baseline HbA1c (docs/cohort.md). Insulin, titrated without a ceiling dose, is bounded highest.
    public static let maximumLowering: [String: Double] = [
        "metformin": 2.0, "sglt2": 1.0, "glp1": 2.0, "dpp4": 1.0, "sulfonylurea": 2.0, "tzd": 1.6, "basal_insulin": 3.0, "no_change": 0,
    ]
    /// Weight change (kg) of each option.
    static let weightChange: [String: Double] = [
        "metformin": -1, "sglt2": -2, "glp1": -4, "dpp4": 0, "sulfonylurea": 2, "tzd": 3, "basal_insulin": 3, "no_change": 0,
    ]

    /// How strongly a patient responds to each option (1 = average, always between 0.25 and
    /// 1.75), from the latent traits: 1 + 0.75·tanh(z) of a linear score z, so no combination of
    /// traits multiplies the effect without bound. Shared factors make the response to one drug
    /// tell about another: insulin resistance governs metformin and thiazolidinediones, beta-cell
    /// reserve sulfonylureas, DPP-4 inhibitors, metformin (less) and (inversely) insulin, the
    /// incretin axis DPP-4 inhibitors and GLP-1 RAs.
    public func responsiveness(_ t: String, _ traits: LatentTraits) -> Double {
        let b = traits.betaCellReserve, r = traits.insulinResistance, i = traits.incretinResponse
        let z: Double
        switch t {
        case "metformin": z = 0.8 * b + 0.4 * r
        case "tzd": z = 1.0 * r
        case "sulfonylurea": z = 1.2 * b
        case "dpp4": z = 0.9 * b + 0.6 * i
        case "glp1": z = 0.8 * i
        case "basal_insulin": z = -0.6 * b
        case "sglt2": z = 0.3 * r
        default: return 0
        }
        return 1 + 0.75 * tanh(z)
    }

    /// Expected HbA1c lowering of starting `t` in `state`: the class's lowering at 8 %, times the
    /// patient's responsiveness and idiosyncratic factor, times the baseline effect (higher
    /// HbA1c, more lowering), never above the class's maximum.
    public func hba1cLowering(_ t: String, _ s: PatientState, _ traits: LatentTraits) -> Double {
        var eff = Self.efficacy[t, default: 0] * responsiveness(t, traits) * traits.responseFactor(t) * min(max((s.hba1c - 5.5) / 2.5, 0.4), 1.8)
        if t == "sglt2" { eff *= s.egfr < 30 ? 0.25 : (s.egfr < 45 ? 0.5 : 1) }
        if t == "dpp4" && s.current.contains("glp1") { eff *= 0.2 }
        if t == "glp1" && s.current.contains("dpp4") { eff *= 0.8 }
        return min(eff, Self.maximumLowering[t, default: 0])
    }

    /// Probability of a hypoglycaemic episode on `t` over the next year.
    public func hypoglycaemiaRisk(_ t: String, _ s: PatientState, _ traits: LatentTraits) -> Double {
        let old = s.age >= 65 ? 0.08 : 0, renal = s.egfr < 45 ? 0.08 : 0
        switch t {
        case "sulfonylurea": return min(0.03 + 0.2 * traits.hypoglycaemiaSusceptibility + old + renal + (s.hypoglycaemiaHistory ? 0.1 : 0), 0.9)
        case "basal_insulin": return min(0.06 + 0.35 * traits.hypoglycaemiaSusceptibility + old + (s.hypoglycaemiaHistory ? 0.1 : 0), 0.9)
        case "no_change": return 0
        default: return 0.01
        }
    }

    /// Annual cardiorenal event risk and the part of it that `t` removes.
    public func cardiorenalRiskReduction(_ t: String, _ s: PatientState) -> Double {
        let hf = s.heartFailure ? 0.06 : 0
        let ascvd = s.ascvd ? 0.04 : 0
        let ckd = (s.egfr < 60 || s.uacr >= 30) ? 0.04 : 0
        switch t {
        case "sglt2":
            guard s.egfr >= 20 else { return 0 }
            return 0.30 * hf + 0.30 * ckd + 0.15 * ascvd
        case "glp1": return 0.25 * ascvd + 0.20 * ckd
        case "metformin": return 0.05 * (hf + ascvd + ckd + 0.01)
        default: return 0
        }
    }

    /// Harm of a choice the guidelines advise against, in utility units, with its reason.
    public func harm(_ t: String, _ s: PatientState, _ traits: LatentTraits) -> (Double, [String]) {
        var h = 0.0
        var why: [String] = []
        func add(_ x: Double, _ reason: String) { h += x; why.append(reason) }
        switch t {
        case "metformin":
            if s.egfr < 30 { add(3.0, "lactic acidosis risk at eGFR < 30") } else if s.egfr < 45 { add(0.6, "initiation at eGFR 30-45") }
            if traits.gastrointestinalIntolerance { add(1.5, "gastrointestinal intolerance") }
            if s.pregnant { add(0.8, "pregnancy") }
        case "sglt2":
            if s.egfr < 20 { add(1.0, "initiation below eGFR 20") }
            if s.pregnant { add(3.0, "pregnancy") }
        case "glp1":
            if s.medullaryThyroid { add(3.0, "medullary thyroid carcinoma / MEN2") }
            if s.pancreatitis { add(1.0, "history of pancreatitis") }
            if s.pregnant { add(3.0, "pregnancy") }
            if s.current.contains("dpp4") { add(0.3, "replaces a DPP-4 inhibitor") }
        case "tzd":
            if s.heartFailure { add(2.5, "heart failure") }
            if s.pregnant { add(3.0, "pregnancy") }
        case "dpp4":
            if s.heartFailure { add(0.2, "heart failure signal (saxagliptin, alogliptin)") }
            if s.current.contains("glp1") { add(0.5, "no added benefit with a GLP-1 RA") }
            if s.pregnant { add(3.0, "pregnancy") }
        case "sulfonylurea":
            if s.pregnant { add(3.0, "pregnancy") }
        default: break
        }
        return (h, why)
    }

    /// The simulated outcome of choosing `t` at a visit.
    public func outcome(of t: String, state s: PatientState, traits: LatentTraits) -> SimulatedOutcome {
        // An option already taken adds nothing: choosing it is continuing current therapy.
        let already = t != "no_change" && s.current.contains(t)
        let lowering = already ? 0 : hba1cLowering(t, s, traits)
        let hypo = already ? hypoglycaemiaRisk("no_change", s, traits) : hypoglycaemiaRisk(t, s, traits)
        let weight = already ? 0 : Self.weightChange[t, default: 0] * (1 + 0.2 * traits.weightGainProneness)
        let crr = already ? 0 : cardiorenalRiskReduction(t, s)
        let (harm, reasons) = already ? (0, []) : harm(t, s, traits)
        return SimulatedOutcome(treatment: t, hba1cChange: -lowering, hypoglycaemiaRisk: hypo, weightChangeKg: weight,
                                cardiorenalRiskReduction: crr, harm: harm, harmReasons: reasons, alreadyTaking: already,
                                unexplained: already ? 0 : traits.unexplainedUtility(t))
    }

    /// The utility of an outcome (higher is better). See docs/cohort.md for each term.
    public func utility(_ o: SimulatedOutcome, state s: PatientState) -> Double {
        if o.alreadyTaking { return -0.05 }
        let target = (s.age >= 75 || s.hypoglycaemiaHistory) ? 8.0 : 7.0
        let gap = max(s.hba1c - target, 0)
        let lowering = -o.hba1cChange
        let glycaemic = 1.5 * min(lowering, gap) - 0.3 * max(lowering - gap - 0.5, 0)
        let weightTerm = -0.04 * o.weightChangeKg * (s.bmi >= 30 ? 1.5 : 0.5)
        var burden = 0.0
        if o.treatment != "no_change" { burden += 0.2 }
        if o.treatment == "basal_insulin" { burden += s.pregnant ? -0.5 : 0.3 }
        if o.treatment == "glp1" { burden += 0.1 }
        return glycaemic - 2.0 * o.hypoglycaemiaRisk + weightTerm + 25 * o.cardiorenalRiskReduction - o.harm - burden + o.unexplained
    }

    /// Utilities of every option, in `treatments` order.
    public func utilities(state: PatientState, traits: LatentTraits) -> [Double] {
        Self.treatments.map { utility(outcome(of: $0, state: state, traits: traits), state: state) }
    }

    /// The option of highest utility (ties go to the earlier option).
    public func best(state: PatientState, traits: LatentTraits) -> String {
        best(utilities: utilities(state: state, traits: traits))
    }

    /// The option of highest utility among `u` (`treatments` order; ties go to the earlier one).
    public func best(utilities u: [Double]) -> String {
        var best = 0
        for i in u.indices where u[i] > u[best] { best = i }
        return Self.treatments[best]
    }
}

/// What the simulator sees of a patient at a visit (all of it visible in the record).
public struct PatientState: Sendable, Equatable {
    public var age: Double
    public var female: Bool
    public var hba1c: Double
    public var egfr: Double
    public var uacr: Double
    public var bmi: Double
    public var heartFailure: Bool
    public var ascvd: Bool
    public var pancreatitis: Bool
    public var medullaryThyroid: Bool
    public var pregnant: Bool
    public var hypoglycaemiaHistory: Bool
    /// Options currently taken.
    public var current: Set<String>
}

/// What the simulator knows of a patient and the record does not show directly; the history
/// reveals it through how the patient responded to earlier treatments.
public struct LatentTraits: Sendable, Equatable {
    public var betaCellReserve: Double
    public var insulinResistance: Double
    public var incretinResponse: Double
    public var hypoglycaemiaSusceptibility: Double
    public var weightGainProneness: Double
    public var gastrointestinalIntolerance: Bool
    /// Untreated HbA1c rise, percentage points a year.
    public var progression: Double
    /// eGFR loss, mL/min/1.73 m² a year.
    public var egfrDecline: Double
    /// Per drug option (the first seven of `ResponseSimulator.treatments`): the patient's
    /// idiosyncratic response factor, multiplying the HbA1c lowering (1 = none; the cohort draws
    /// exp(N(0, 0.15²))). Observed only for a drug the patient has taken.
    public var responseFactors: [Double]
    /// Per drug option: utility the documented terms do not explain (tolerability, what the
    /// patient makes of the drug; the cohort draws N(0, 0.1²)). Nothing in the record shows it,
    /// so the label is not a deterministic function of what a model can see.
    public var unexplained: [Double]

    static let drugOptions = 7

    func responseFactor(_ t: String) -> Double {
        guard let k = ResponseSimulator.treatments.firstIndex(of: t), k < responseFactors.count else { return 1 }
        return responseFactors[k]
    }
    func unexplainedUtility(_ t: String) -> Double {
        guard let k = ResponseSimulator.treatments.firstIndex(of: t), k < unexplained.count else { return 0 }
        return unexplained[k]
    }

    /// Stored form (cohort_truth.traits), in declaration order: 8 values, then the 7 response
    /// factors and the 7 unexplained utilities.
    public var values: [Double] {
        [betaCellReserve, insulinResistance, incretinResponse, hypoglycaemiaSusceptibility, weightGainProneness,
         gastrointestinalIntolerance ? 1 : 0, progression, egfrDecline] + responseFactors + unexplained
    }

    /// From the stored form; 8 values (a cohort stored before the noise terms) mean none.
    public init(values v: [Double]) {
        precondition(v.count == 8 || v.count == 8 + 2 * Self.drugOptions, "latent traits have 8 or 22 values")
        self.init(betaCellReserve: v[0], insulinResistance: v[1], incretinResponse: v[2], hypoglycaemiaSusceptibility: v[3],
                  weightGainProneness: v[4], gastrointestinalIntolerance: v[5] != 0, progression: v[6], egfrDecline: v[7],
                  responseFactors: v.count > 8 ? Array(v[8..<15]) : [], unexplained: v.count > 8 ? Array(v[15..<22]) : [])
    }

    public init(betaCellReserve: Double, insulinResistance: Double, incretinResponse: Double, hypoglycaemiaSusceptibility: Double,
                weightGainProneness: Double, gastrointestinalIntolerance: Bool, progression: Double, egfrDecline: Double,
                responseFactors: [Double] = [], unexplained: [Double] = []) {
        self.betaCellReserve = betaCellReserve; self.insulinResistance = insulinResistance; self.incretinResponse = incretinResponse
        self.hypoglycaemiaSusceptibility = hypoglycaemiaSusceptibility; self.weightGainProneness = weightGainProneness
        self.gastrointestinalIntolerance = gastrointestinalIntolerance; self.progression = progression; self.egfrDecline = egfrDecline
        self.responseFactors = responseFactors.isEmpty ? [Double](repeating: 1, count: Self.drugOptions) : responseFactors
        self.unexplained = unexplained.isEmpty ? [Double](repeating: 0, count: Self.drugOptions) : unexplained
    }
}

/// The simulated result of one choice.
public struct SimulatedOutcome: Sendable, Equatable {
    public var treatment: String
    /// Expected HbA1c change, percentage points (negative is lowering).
    public var hba1cChange: Double
    public var hypoglycaemiaRisk: Double
    public var weightChangeKg: Double
    /// Absolute annual cardiorenal event risk removed.
    public var cardiorenalRiskReduction: Double
    public var harm: Double
    public var harmReasons: [String]
    public var alreadyTaking: Bool
    /// The patient's unexplained utility of the drug (`LatentTraits.unexplained`), 0 for no change.
    public var unexplained: Double = 0
}
