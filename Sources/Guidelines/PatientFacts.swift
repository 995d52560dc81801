import Foundation
import Patients

/// What the rules read of a patient, as of the index visit (clinical time: a record that ends
/// in 2019 is reviewed as of 2019, and an earlier index visit sees only what was known then).
public struct PatientFacts: Sendable {
    public var indexDate: Date
    public var age: Int
    public var sex: Sex
    /// Every measured value up to the index visit, newest last, per feature.
    public var values: [String: [KnownValue]]
    /// Condition features holding at the index visit (coded or derived), and context conditions.
    public var conditions: Set<String>
    /// Treatment options being taken (`basal_insulin` includes any insulin), and context drug classes.
    public var taking: Set<String>

    public init(record r: PatientRecord, visit index: Int? = nil, pack: KnowledgePack) {
        let i = index ?? max(r.visits.count - 1, 0)
        let date = r.visits.indices.contains(i) ? r.visits[i].date : (r.deceasedAt ?? r.birthDate)
        self.init(record: r, asOf: date, pack: pack)
    }

    /// The facts as of a review date (`ReviewPoint.date`), which need not be a visit: values
    /// taken up to the end of that day, conditions and medications active at it. Besides the
    /// model's features: the context conditions (`has type2_diabetes`), labs (`hdl < 40`) and
    /// drug classes (`taking ace_inhibitor`) of `Knowledge/context.yaml`.
    public init(record r: PatientRecord, asOf date: Date, pack: KnowledgePack) {
        indexDate = date
        age = r.age(at: date)
        sex = r.sex
        let cutoff = ClinicalCalendar.endOfDay(date)
        var values: [String: [KnownValue]] = [:]
        for v in r.visits where v.date <= cutoff {
            for o in v.observations where o.time <= cutoff {
                if case .value(let f, let value) = pack.features.measure(o) { values[f, default: []].append(KnownValue(feature: f, value: value, time: o.time)) }
                else if case .value(let f, let value) = pack.context.labs.measure(o) { values[f, default: []].append(KnownValue(feature: f, value: value, time: o.time)) }
            }
        }
        self.values = values.mapValues { $0.sorted { $0.time < $1.time } }
        var conditions = Set(FeatureExtractor(pack: pack).conditionFeatures(for: r, at: date))
        for c in pack.context.conditions(of: r, at: date) { conditions.insert(c.condition.id) }
        self.conditions = conditions
        var taking = Set<String>()
        for m in r.activeMedications(at: date) {
            if let map = pack.treatments.map(code: m.code, display: m.display) { taking.insert(map.treatment) }
        }
        for t in pack.context.therapies(of: r, at: date) { taking.insert(t.therapy.id) }
        self.taking = taking
    }

    /// The latest value of `feature` within `days` before the index date (the feature's own
    /// carry-forward window when `days` is nil).
    public func latest(_ feature: String, withinDays days: Double?, pack: KnowledgePack) -> KnownValue? {
        let window = (days ?? (pack.features.definition(id: feature) ?? pack.context.labs.definition(id: feature))?.carryForwardDays ?? 365) * 86400
        guard let last = values[feature]?.last, indexDate.timeIntervalSince(last.time) <= window else { return nil }
        return last
    }

    /// Evaluates a condition; `used` collects the facts it read, for the finding's evidence.
    public func evaluate(_ c: Condition, pack: KnowledgePack, used: inout [String: KnownValue], missing: inout Set<String>) -> Truth {
        switch c {
        case .compare(let f, let op, let value, let window):
            guard let v = latest(f, withinDays: window, pack: pack) else { missing.insert(f); return .unknown }
            used[f] = v
            return op.holds(v.value, value) ? .yes : .no
        case .age(let op, let value): return op.holds(Double(age), value) ? .yes : .no
        case .has(let id): return conditions.contains(id) ? .yes : .no
        case .taking(let id): return taking.contains(id) ? .yes : .no
        case .known(let f, let window):
            if let v = latest(f, withinDays: window, pack: pack) { used[f] = v; return .yes }
            return .no
        case .fell(let f, let percent, let window):
            let recent = (values[f] ?? []).filter { indexDate.timeIntervalSince($0.time) <= window * 86400 }
            guard recent.count >= 2, let last = recent.last, let peak = recent.map(\.value).max(), peak > 0 else { missing.insert(f); return .unknown }
            used[f] = last
            return (peak - last.value) / peak * 100 >= percent ? .yes : .no
        case .female: return sex == .female ? .yes : (sex == .male ? .no : .unknown)
        case .not(let inner): return evaluate(inner, pack: pack, used: &used, missing: &missing).negated
        case .and(let a, let b):
            return Truth.and(evaluate(a, pack: pack, used: &used, missing: &missing), evaluate(b, pack: pack, used: &used, missing: &missing))
        case .or(let a, let b):
            return Truth.or(evaluate(a, pack: pack, used: &used, missing: &missing), evaluate(b, pack: pack, used: &used, missing: &missing))
        }
    }
}
