/// What one import run did: per file, per resource type, per unmapped code, and every problem
/// with its file and place.
public struct ImportReport: Sendable, Codable {
    public struct FileResult: Sendable, Codable {
        public var path: String
        public var ok: Bool
        public var patients: [String]
        public var error: ImportIssue?
        /// A file with no patient data (organisations, practitioners, locations): read, nothing stored.
        public var referenceData: Bool = false
    }
    /// A code that feeds nothing in the knowledge pack (kept in the record, not used by the model).
    public struct UnmappedCode: Sendable, Codable, Hashable {
        public var system: String
        public var code: String
        public var display: String
        public var count: Int
    }
    /// Values of model features that were reported and not used.
    public struct ValueProblem: Sendable, Codable {
        public var feature: String
        public var problem: String
        public var count: Int
        public var example: ImportIssue
    }

    public var files: [FileResult] = []
    public var patientsNew = 0
    public var patientsUpdated = 0
    public var patientsUnchanged = 0
    /// Files of reference data only (Synthea's hospitalInformation/practitionerInformation bundles).
    public var referenceFiles = 0
    public var used: [String: Int] = [:]
    public var skipped: [String: Int] = [:]
    public var unmapped: [UnmappedCode] = []
    public var valueProblems: [ValueProblem] = []
    /// Resources that could not be used (the file still imported).
    public var warnings: [ImportIssue] = []
    /// Whole files that failed (nothing of them was written).
    public var errors: [ImportIssue] { files.compactMap(\.error) }
    public var failed: Bool { files.contains { !$0.ok } }

    public init() {}

    /// Folds one file's statistics in.
    mutating func merge(_ s: ImportStatistics) {
        for (k, v) in s.used { used[k, default: 0] += v }
        for (k, v) in s.skipped { skipped[k, default: 0] += v }
        var codes = Dictionary(uniqueKeysWithValues: unmapped.map { (($0.system + "|" + $0.code), $0) })
        for (key, u) in s.unmapped {
            codes[key, default: UnmappedCode(system: u.system, code: u.code, display: u.display, count: 0)].count += u.count
        }
        unmapped = codes.values.sorted { ($0.count, $1.code) > ($1.count, $0.code) }
        var problems = Dictionary(uniqueKeysWithValues: valueProblems.map { ($0.feature + "|" + $0.problem, $0) })
        for p in s.valueProblems {
            problems[p.feature + "|" + p.problem, default: ValueProblem(feature: p.feature, problem: p.problem, count: 0, example: p.example)].count += p.count
        }
        valueProblems = problems.values.sorted { ($0.feature, $0.problem) < ($1.feature, $1.problem) }
        warnings += s.warnings
    }
}

/// Counters gathered while reading one input.
struct ImportStatistics {
    var used: [String: Int] = [:]
    var skipped: [String: Int] = [:]
    var unmapped: [String: ImportReport.UnmappedCode] = [:]
    var valueProblems: [ImportReport.ValueProblem] = []
    var warnings: [ImportIssue] = []

    /// Adds another input's counters (NDJSON files of one run are one unit).
    mutating func absorb(_ s: ImportStatistics) {
        for (k, v) in s.used { used[k, default: 0] += v }
        for (k, v) in s.skipped { skipped[k, default: 0] += v }
        for (k, u) in s.unmapped { unmapped[k, default: .init(system: u.system, code: u.code, display: u.display, count: 0)].count += u.count }
        valueProblems += s.valueProblems
        warnings += s.warnings
    }

    mutating func noteUnmapped(system: String, code: String, display: String) {
        unmapped[system + "|" + code, default: .init(system: system, code: code, display: display, count: 0)].count += 1
    }

    mutating func noteProblem(feature: String, problem: String, issue: ImportIssue) {
        if let i = valueProblems.firstIndex(where: { $0.feature == feature && $0.problem == problem }) {
            valueProblems[i].count += 1
        } else {
            valueProblems.append(.init(feature: feature, problem: problem, count: 1, example: issue))
        }
    }
}
