import Foundation

/// Reading FHIR that is already in memory: a CDS Hooks request's prefetch, where each entry is
/// one resource or a Bundle. The same resource reader and record assembler as `run` (and so
/// `rounds import`) use, so a patient reads the same whichever way it arrives.
extension FHIRImporter {
    /// One named part of the input (a prefetch key and its JSON value).
    public struct ParsedInput {
        public var name: String
        public var json: Any
        public init(name: String, json: Any) { self.name = name; self.json = json }
    }

    /// The records the inputs hold, with the import report's counters and warnings. Throws an
    /// `ImportIssue` naming the input (and entry) when one is not a FHIR resource or Bundle, or
    /// when no input holds a Patient with a birth date.
    public func records(from inputs: [ParsedInput]) throws -> (records: [PatientRecord], report: ImportReport) {
        var assembler = RecordAssembler(pack: pack)
        var stats = ImportStatistics()
        for input in inputs {
            let at = SourceLocation(file: input.name)
            guard let object = input.json as? [String: Any] else { throw ImportIssue("is not a JSON object (a FHIR resource or Bundle)", at: at) }
            guard let type = object["resourceType"] as? String else { throw ImportIssue("not a FHIR resource: it has no resourceType", at: at) }
            if type == "Bundle" {
                guard let list = (object["entry"] ?? [Any]()) as? [Any] else {
                    throw ImportIssue("Bundle.entry is not an array", at: at)
                }
                for (i, e) in list.enumerated() {
                    var location = at
                    location.entry = i
                    guard let entry = e as? [String: Any] else { throw ImportIssue("entry is not a JSON object", at: location) }
                    guard let resource = entry["resource"] as? [String: Any] else { stats.skipped["(entry without resource)", default: 0] += 1; continue }
                    if let r = try read(resource, fullUrl: entry["fullUrl"] as? String, location: location, stats: &stats) { assembler.add(r) }
                }
            } else if let r = try read(object, fullUrl: nil, location: at, stats: &stats) {
                assembler.add(r)
            }
        }
        let records = assembler.assemble(stats: &stats)
        guard !records.isEmpty else {
            throw ImportIssue("no Patient with a birth date in it", at: SourceLocation(file: inputs.map(\.name).joined(separator: ", ")))
        }
        var report = ImportReport()
        report.merge(stats)
        return (records, report)
    }
}
