import Foundation

/// A patient's visits as the model sees them: one row per visit, one column per feature column
/// of the catalog, raw values in canonical units.
///
/// An unknown measured value is NaN in its column and 1 in its `_missing` column; the model
/// fills NaN with the population mean (0 after standardization), so missingness is carried by
/// the indicator, never by a silent zero.
public struct FeatureMatrix: Sendable, Equatable {
    public var columns: [String]
    public var visitDates: [Date]
    /// `rows[t][j]`: visit t, column j.
    public var rows: [[Float]]

    public var visitCount: Int { rows.count }
    public func column(_ name: String) -> Int? { columns.firstIndex(of: name) }
}

/// The latest known value of a measured feature as of a visit.
public struct KnownValue: Sendable, Equatable {
    public var feature: String
    public var value: Double
    public var time: Date
    public init(feature: String, value: Double, time: Date) { self.feature = feature; self.value = value; self.time = time }
}

/// Turns a patient record into the model's feature matrix, as of each visit.
///
/// The catalog is compiled once into a plan of plain column operations, so extraction costs
/// a few array reads per cell: it runs for every patient of a cohort.
public struct FeatureExtractor: Sendable {
    public let pack: KnowledgePack

    private enum Column: Sendable {
        /// Measured feature `slot` (index into the measured list), with its indicator column or -1.
        case measured(slot: Int, indicator: Int)
        case condition(feature: String, history: Bool, derivedFrom: Int?, derived: DerivedCondition?)
        case medication(treatment: String, includeRelated: Bool)
        /// A history feature; `slot` is the measured feature a response reads (-1 otherwise),
        /// `indicator` its `_missing` column or -1.
        case history(HistoryDerivation, treatment: String, includeRelated: Bool, slot: Int, indicator: Int)
        case age, femaleSex, unknown
    }
    private let plan: [(column: Int, op: Column)]
    private let measured: [FeatureDefinition]
    private let slotByID: [String: Int]
    private let carrySeconds: [Double]
    private let conditionColumns: [(id: String, column: Int)]

    public init(pack: KnowledgePack) {
        self.pack = pack
        let catalog = pack.features
        measured = catalog.measured
        var slots: [String: Int] = [:]
        for (i, d) in measured.enumerated() { slots[d.id] = i }
        slotByID = slots
        carrySeconds = measured.map { $0.carryForwardDays * 86400 }
        var plan: [(Int, Column)] = []
        var conditionColumns: [(String, Int)] = []
        var j = 0
        for d in catalog.definitions {
            switch d.kind {
            case .lab, .vital:
                plan.append((j, .measured(slot: slots[d.id]!, indicator: d.missingIndicator ? j + 1 : -1)))
            case .condition:
                plan.append((j, .condition(feature: d.id, history: d.history, derivedFrom: d.derived.flatMap { slots[$0.from] }, derived: d.derived)))
                conditionColumns.append((d.id, j))
            case .medication:
                plan.append((j, .medication(treatment: d.treatment ?? "", includeRelated: d.includeRelated)))
            case .demographic:
                plan.append((j, d.id == "age" ? .age : (d.id == "sex_female" ? .femaleSex : .unknown)))
            case .history:
                plan.append((j, .history(d.derive ?? .interval, treatment: d.treatment ?? "", includeRelated: d.includeRelated,
                                         slot: d.of.flatMap { slots[$0] } ?? -1, indicator: d.missingIndicator ? j + 1 : -1)))
            }
            j += d.missingIndicator ? 2 : 1
        }
        self.plan = plan
        self.conditionColumns = conditionColumns
    }

    /// Rows for visits `0...last` (all visits when `last` is nil).
    public func matrix(for record: PatientRecord, through last: Int? = nil) -> FeatureMatrix {
        let count = min((last ?? record.visits.count - 1) + 1, record.visits.count)
        var rows: [[Float]] = []
        rows.reserveCapacity(count)
        walk(record, through: count - 1) { _, row in rows.append(row) }
        return FeatureMatrix(columns: pack.features.columns, visitDates: record.visits.prefix(count).map(\.date), rows: rows)
    }

    /// The feature row of visit `index` alone.
    public func row(for record: PatientRecord, at index: Int) -> [Float]? {
        guard record.visits.indices.contains(index) else { return nil }
        var result: [Float]?
        walk(record, through: index) { t, row in if t == index { result = row } }
        return result
    }

    /// Latest known value of each measured feature as of visit `index` (within its carry-forward window).
    public func knownValues(for record: PatientRecord, asOf index: Int) -> [String: KnownValue] {
        guard record.visits.indices.contains(index) else { return [:] }
        var known = [KnownValue?](repeating: nil, count: measured.count)
        for visit in record.visits.prefix(index + 1) {
            for o in visit.observations {
                if case .value(let f, let v) = pack.features.measure(o), let s = slotByID[f], o.time >= (known[s]?.time ?? .distantPast) {
                    known[s] = KnownValue(feature: f, value: v, time: o.time)
                }
            }
        }
        let date = record.visits[index].date
        var out: [String: KnownValue] = [:]
        for (s, k) in known.enumerated() {
            if let k, date.timeIntervalSince(k.time) <= carrySeconds[s] { out[k.feature] = k }
        }
        return out
    }

    /// The condition features that hold at visit `index` (coded, or derived from a value).
    public func conditionFeatures(for record: PatientRecord, asOf index: Int) -> [String] {
        guard let row = row(for: record, at: index) else { return [] }
        return conditionColumns.filter { row[$0.column] == 1 }.map(\.id)
    }

    /// Latest known value of each measured feature as of `date` (observations up to the end of
    /// that day, each within its carry-forward window counted from `date`): the review date's
    /// labs, which need not fall on a visit.
    public func knownValues(for record: PatientRecord, at date: Date) -> [String: KnownValue] {
        let cutoff = ClinicalCalendar.endOfDay(date)
        var known = [KnownValue?](repeating: nil, count: measured.count)
        for visit in record.visits where visit.date <= cutoff {
            for o in visit.observations where o.time <= cutoff {
                if case .value(let f, let v) = pack.features.measure(o), let s = slotByID[f], o.time >= (known[s]?.time ?? .distantPast) {
                    known[s] = KnownValue(feature: f, value: v, time: o.time)
                }
            }
        }
        var out: [String: KnownValue] = [:]
        for (s, k) in known.enumerated() {
            if let k, date.timeIntervalSince(k.time) <= carrySeconds[s] { out[k.feature] = k }
        }
        return out
    }

    /// The condition features that hold at `date`: coded and active (or, for history features,
    /// ever diagnosed), or derived from a value known at `date`.
    public func conditionFeatures(for record: PatientRecord, at date: Date) -> [String] {
        let known = knownValues(for: record, at: date)
        // Each diagnosis's feature, looked up once (not once per feature: the lookup normalizes the display text).
        let diagnoses = record.conditions.map { c in (entry: c, feature: pack.features.conditionFeature(code: c.code, display: c.display)?.0.id) }
        return pack.features.conditions.filter { d in
            let coded = diagnoses.contains { c in
                c.feature == d.id && (d.history ? c.entry.onset <= date : c.entry.isActive(at: date))
            }
            if coded { return true }
            if let derived = d.derived, let v = known[derived.from] { return derived.holds(v.value) }
            return false
        }.map(\.id)
    }

    /// Computes the rows of visits 0...last in order, handing each to `body`.
    private func walk(_ record: PatientRecord, through last: Int, _ body: (Int, [Float]) -> Void) {
        guard last >= 0 else { return }
        let catalog = pack.features
        let conditions: [(entry: ConditionEntry, feature: String)] = record.conditions.compactMap { c in
            catalog.conditionFeature(code: c.code, display: c.display).map { (c, $0.0.id) }
        }
        let medications: [(entry: MedicationEntry, mapping: MedicationMapping)] = record.medications.compactMap { m in
            pack.treatments.map(code: m.code, display: m.display).map { (m, $0) }
        }
        var value = [Double](repeating: .nan, count: measured.count)
        var time = [Date](repeating: .distantPast, count: measured.count)
        // Every value seen so far of the measured features a response reads, in time order.
        var series = [[(time: Date, value: Double)]](repeating: [], count: measured.count)
        let tracked = Set(plan.compactMap { _, op -> Int? in if case .history(.response, _, _, let s, _) = op, s >= 0 { return s }; return nil })
        let width = catalog.columns.count
        for t in 0...last {
            let visit = record.visits[t]
            for o in visit.observations {
                if case .value(let f, let v) = catalog.measure(o), let s = slotByID[f] {
                    if o.time >= time[s] { value[s] = v; time[s] = o.time }
                    if tracked.contains(s) {
                        let at = series[s].lastIndex { $0.time <= o.time }.map { $0 + 1 } ?? 0
                        series[s].insert((o.time, v), at: at)
                    }
                }
            }
            let date = visit.date
            func current(_ s: Int) -> Double? {
                value[s].isNaN || date.timeIntervalSince(time[s]) > carrySeconds[s] ? nil : value[s]
            }
            var row = [Float](repeating: 0, count: width)
            for (j, op) in plan {
                switch op {
                case .measured(let s, let indicator):
                    if let v = current(s) { row[j] = Float(v) } else {
                        row[j] = .nan
                        if indicator >= 0 { row[indicator] = 1 }
                    }
                case .condition(let feature, let history, let from, let derived):
                    var on = conditions.contains { $0.feature == feature && (history ? $0.entry.onset <= date : $0.entry.isActive(at: date)) }
                    if !on, let from, let derived, let v = current(from) { on = derived.holds(v) }
                    row[j] = on ? 1 : 0
                case .medication(let treatment, let includeRelated):
                    let on = medications.contains { $0.mapping.treatment == treatment && (!$0.mapping.related || includeRelated) && $0.entry.isActive(at: date) }
                    row[j] = on ? 1 : 0
                case .history(let derive, let treatment, let includeRelated, let slot, let indicator):
                    let v = Self.history(derive, at: date, previous: t > 0 ? record.visits[t - 1].date : nil,
                                         courses: medications.filter { $0.mapping.treatment == treatment && (!$0.mapping.related || includeRelated) }.map(\.entry),
                                         series: slot >= 0 ? series[slot] : [], carry: slot >= 0 ? carrySeconds[slot] : 0)
                    row[j] = Float(v)
                    if v.isNaN, indicator >= 0 { row[indicator] = 1 }
                case .age: row[j] = Float(date.timeIntervalSince(record.birthDate) / (365.2425 * 86400))
                case .femaleSex: row[j] = record.sex == .female ? 1 : 0
                case .unknown: row[j] = .nan
                }
            }
            body(t, row)
        }
    }

    static let day = 86400.0, year = 365.2425 * 86400

    /// One history feature as of a visit on `date`: `courses` are the record's medication
    /// entries of the feature's option, `series` the values (time order) measured so far of the
    /// feature a response reads. NaN when unknown.
    static func history(_ derive: HistoryDerivation, at date: Date, previous: Date?, courses: [MedicationEntry],
                        series: [(time: Date, value: Double)], carry: Double) -> Double {
        switch derive {
        case .interval:
            return previous.map { date.timeIntervalSince($0) / day } ?? .nan
        case .timeOn:
            guard let start = courses.filter({ $0.isActive(at: date) }).map(\.start).min() else { return 0 }
            return date.timeIntervalSince(start) / year
        case .stopped:
            let taking = courses.contains { $0.isActive(at: date) }
            return !taking && courses.contains { c in c.start <= date && (c.end.map { $0 <= date } ?? false) } ? 1 : 0
        case .response:
            guard let course = courses.filter({ $0.start <= date }).max(by: { $0.start < $1.start }) else { return .nan }
            guard let before = series.last(where: { $0.time <= course.start }), course.start.timeIntervalSince(before.time) <= carry else { return .nan }
            let until = min(course.end ?? date, date)
            guard let after = series.first(where: { $0.time.timeIntervalSince(course.start) >= 60 * day && $0.time <= until }) else { return .nan }
            return after.value - before.value
        }
    }
}
