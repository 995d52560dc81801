import Foundation
import Patients

/// A visit sequence summarised into one fixed-width row, for models that read no sequence (the
/// gradient-boosted trees baseline): the last visit's row as it is, then for each measured
/// feature its mean, minimum, maximum, first and last-minus-first over the known values and
/// the fraction of visits where it was known, then for each current-medication feature whether
/// the drug was ever taken, whether it was stopped (taken at one visit, not at a later one) and
/// how many visits it was taken at. Unknown values stay NaN (the trees route them on their own).
public struct HistoryAggregates: Sendable {
    /// Column names of the summary row.
    public let names: [String]
    let width: Int
    let measured: [Int]
    let medications: [Int]

    /// `features`: the sequence's columns; `measured` and `medications`: the ids of the measured
    /// (lab, vital) and current-medication features among them.
    public init(features: [String], measured: [String], medications: [String]) {
        width = features.count
        self.measured = measured.compactMap { features.firstIndex(of: $0) }
        self.medications = medications.compactMap { features.firstIndex(of: $0) }
        var names = features.map { "last." + $0 }
        for j in self.measured {
            for s in ["mean", "min", "max", "first", "change", "coverage"] { names.append("\(features[j]).\(s)") }
        }
        for j in self.medications {
            for s in ["ever", "stopped", "visits"] { names.append("\(features[j]).\(s)") }
        }
        self.names = names
    }

    /// Over the pack's feature columns.
    public init(pack: KnowledgePack) {
        self.init(features: pack.features.columns, measured: pack.features.measured.map(\.id), medications: pack.features.medications.map(\.id))
    }

    /// The summary of `rows` (oldest visit first; at least one).
    public func row(_ rows: [[Float]]) -> [Float] {
        precondition(!rows.isEmpty && rows[0].count == width, "a sequence of rows \(width) wide")
        var out = rows.last!
        out.reserveCapacity(names.count)
        for j in measured {
            var n = 0, sum = 0.0, lo = Float.infinity, hi = -Float.infinity
            var first = Float.nan, last = Float.nan
            for r in rows where !r[j].isNaN {
                let v = r[j]
                n += 1; sum += Double(v); lo = min(lo, v); hi = max(hi, v)
                if first.isNaN { first = v }
                last = v
            }
            if n == 0 { out += [.nan, .nan, .nan, .nan, .nan, 0] } else {
                out += [Float(sum / Double(n)), lo, hi, first, last - first, Float(n) / Float(rows.count)]
            }
        }
        for j in medications {
            var ever = false, stopped = false, visits = 0
            for r in rows {
                if r[j] == 1 { ever = true; visits += 1 } else if ever { stopped = true }
            }
            out += [ever ? 1 : 0, stopped ? 1 : 0, Float(visits)]
        }
        return out
    }
}
