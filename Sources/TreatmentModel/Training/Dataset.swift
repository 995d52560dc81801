import Foundation
import Patients

/// Labelled visit sequences, as the model trains and is evaluated on them.
public struct Dataset: Sendable {
    public struct Example: Sendable {
        public var patientID: String
        /// Raw feature rows (canonical units, NaN = unknown), one per visit up to the index visit.
        public var rows: [[Float]]
        public var label: Int
        /// The simulated utility of every treatment (the pack's order) at this decision point,
        /// where the cohort keeps them (the index visit); training's soft targets come from them.
        public var utilities: [Float]?
        /// Whether the sequence ends at the history's index visit (the last), where evaluation
        /// scores; false for the earlier decision points training adds.
        public var isIndex: Bool
        public init(patientID: String, rows: [[Float]], label: Int, utilities: [Float]? = nil, isIndex: Bool = true) {
            self.patientID = patientID; self.rows = rows; self.label = label; self.utilities = utilities; self.isIndex = isIndex
        }
    }

    public var examples: [Example]
    public var features: [String]
    public var treatments: [String]

    public init(examples: [Example], features: [String], treatments: [String]) {
        self.examples = examples; self.features = features; self.treatments = treatments
    }

    /// Builds examples from records and their labels (treatment ids), visits up to the index
    /// visit (the last), at most `maxVisits` of the most recent; `utilities` by patient id are
    /// the index visit's (the pack's treatment order).
    public init(records: [(PatientRecord, String)], extractor: FeatureExtractor, maxVisits: Int = 40, utilities: [String: [Float]] = [:]) throws {
        let treatments = extractor.pack.treatments.ids
        var out: [Example] = []
        out.reserveCapacity(records.count)
        for (r, label) in records {
            guard let k = treatments.firstIndex(of: label) else { throw ModelFileError.invalid("label '\(label)' of \(r.id) is no treatment of the pack") }
            guard !r.visits.isEmpty else { continue }
            let rows = extractor.matrix(for: r).rows.suffix(maxVisits)
            out.append(Example(patientID: r.id, rows: Array(rows), label: k, utilities: utilities[r.id]))
        }
        self.init(examples: out, features: extractor.pack.features.columns, treatments: treatments)
    }

    /// Every decision point of each history: for each patient, the visits up to visit k (k from
    /// `minVisits − 1` to the last) with the best option at visit k. Training on all of them
    /// multiplies what a cohort teaches; evaluation stays on the index visits. `visitUtilities`
    /// by patient id (one row per visit, the pack's treatment order) give every decision point
    /// its utilities; without them only the index visit has them (`utilities`).
    public init(decisionPoints records: [(record: PatientRecord, visitLabels: [Int])], extractor: FeatureExtractor,
                minVisits: Int = 2, maxVisits: Int = 40, utilities: [String: [Float]] = [:],
                visitUtilities: [String: [[Float]]] = [:]) throws {
        let treatments = extractor.pack.treatments.ids
        var out: [Example] = []
        for (r, labels) in records {
            guard labels.count == r.visits.count else { throw ModelFileError.invalid("\(r.id) has \(labels.count) visit labels for \(r.visits.count) visits") }
            if let bad = labels.first(where: { !treatments.indices.contains($0) }) {
                throw ModelFileError.invalid("\(r.id) has visit label \(bad), beyond the \(treatments.count) treatments")
            }
            let rows = extractor.matrix(for: r).rows
            let perVisit = visitUtilities[r.id]
            if let perVisit, perVisit.count != rows.count {
                throw ModelFileError.invalid("\(r.id) has utilities for \(perVisit.count) visits of \(rows.count)")
            }
            for k in max(minVisits - 1, 0)..<rows.count {
                out.append(Example(patientID: r.id, rows: Array(rows[max(0, k + 1 - maxVisits)...k]), label: labels[k],
                                   utilities: perVisit?[k] ?? (k == rows.count - 1 ? utilities[r.id] : nil), isIndex: k == rows.count - 1))
            }
        }
        self.init(examples: out, features: extractor.pack.features.columns, treatments: treatments)
    }

    /// Patient-level split into train / validation / test (fractions of the whole), by a seeded
    /// shuffle of the patient ids, so every patient lands in exactly one part.
    public func split(train: Double = 0.70, validation: Double = 0.15, seed: UInt64) -> (train: Dataset, validation: Dataset, test: Dataset) {
        var ids = examples.map(\.patientID).sorted()
        var rng = ModelRandom(seed: seed)
        rng.shuffle(&ids)
        let nTrain = Int((Double(ids.count) * train).rounded()), nVal = Int((Double(ids.count) * validation).rounded())
        var part: [String: Int] = [:]
        for (i, id) in ids.enumerated() { part[id] = i < nTrain ? 0 : (i < nTrain + nVal ? 1 : 2) }
        func subset(_ p: Int) -> Dataset { Dataset(examples: examples.filter { part[$0.patientID] == p }, features: features, treatments: treatments) }
        return (subset(0), subset(1), subset(2))
    }

    /// Mean and standard deviation of each column over every known value of every visit (NaN
    /// skipped); a column that never varies gets std 1.
    public func standardization() -> (mean: [Float], std: [Float]) {
        let F = features.count
        var sum = [Double](repeating: 0, count: F), sq = [Double](repeating: 0, count: F), n = [Double](repeating: 0, count: F)
        for e in examples { for row in e.rows { for f in 0..<F where !row[f].isNaN { sum[f] += Double(row[f]); sq[f] += Double(row[f]) * Double(row[f]); n[f] += 1 } } }
        var mean = [Float](repeating: 0, count: F), std = [Float](repeating: 1, count: F)
        for f in 0..<F where n[f] > 0 {
            let m = sum[f] / n[f]
            let v = max(sq[f] / n[f] - m * m, 0)
            mean[f] = Float(m)
            std[f] = v > 1e-12 ? Float(v.squareRoot()) : 1
        }
        return (mean, std)
    }

    public var labels: [Int] { examples.map(\.label) }

    /// Where each of `names` is among `columns`, or nil when one is missing.
    public static func columnIndices(of names: [String], in columns: [String]) -> [Int]? {
        var at: [String: Int] = [:]
        for (j, c) in columns.enumerated() { at[c] = j }
        var out: [Int] = []
        for n in names { guard let j = at[n] else { return nil }; out.append(j) }
        return out
    }

    /// Rows with only the columns at `indices`, in that order.
    public static func project(_ rows: [[Float]], _ indices: [Int]) -> [[Float]] {
        rows.map { r in indices.map { r[$0] } }
    }

    /// The same examples with only the columns `names`, in that order: a model file trained on
    /// an earlier, narrower feature list reads its own columns out of a wider pack's rows.
    public func projected(onto names: [String]) throws -> Dataset {
        if names == features { return self }
        guard let idx = Self.columnIndices(of: names, in: features) else {
            throw ModelFileError.invalid("the data have no column \(names.first { !features.contains($0) } ?? "")")
        }
        return Dataset(examples: examples.map { Example(patientID: $0.patientID, rows: Self.project($0.rows, idx), label: $0.label) },
                       features: names, treatments: treatments)
    }

    /// A SHA-256-free, stable fingerprint of the data (FNV-1a over ids, labels and values), so a
    /// model file can name the cohort it was trained on.
    public func fingerprint() -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ x: UInt64) { h ^= x; h = h &* 0x0000_0100_0000_01B3 }
        for e in examples {
            for b in e.patientID.utf8 { mix(UInt64(b)) }
            mix(UInt64(e.label))
            for row in e.rows { for v in row { mix(UInt64(v.bitPattern)) } }
        }
        return String(format: "%016llx", h)
    }
}
