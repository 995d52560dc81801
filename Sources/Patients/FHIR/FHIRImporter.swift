import Foundation

/// Reads FHIR R4 JSON into patient records: Bundles (transaction, collection, batch,
/// searchset), single resources, and bulk-export NDJSON (one resource per line).
///
/// Each Bundle or resource file is one unit: it is read whole before anything of it is handed
/// on, and a file that cannot be read fails alone. NDJSON files of one run form one unit
/// together (a bulk export puts each resource type in its own file); an NDJSON file with a bad
/// line is left out whole. Bundles are streamed entry by entry, so memory stays bounded by what
/// is kept of the records, not by the file's size. A Bundle with nothing of a patient in it
/// (organisations, practitioners, locations) is reference data: counted, not failed. Every
/// file's warnings are reported, whether the file imported or failed.
public struct FHIRImporter: Sendable {
    public let pack: KnowledgePack

    public init(pack: KnowledgePack) { self.pack = pack }

    /// The result of reading one unit.
    public struct Unit: Sendable {
        public var files: [String]
        public var records: [PatientRecord]
    }

    /// Reads every input (files, or folders searched recursively for `.json` and `.ndjson`),
    /// calling `write` with each unit's records. `write` returns how many records were new,
    /// updated and unchanged; an error it throws fails that unit.
    public func run(paths: [String], write: (Unit) throws -> (new: Int, updated: Int, unchanged: Int)) -> ImportReport {
        var report = ImportReport()
        var files: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else {
                report.files.append(.init(path: p, ok: false, patients: [], error: ImportIssue("no such file or folder", at: SourceLocation(file: p))))
                continue
            }
            if isDir.boolValue {
                let found = (FileManager.default.enumerator(atPath: p)?.allObjects as? [String] ?? [])
                    .filter { $0.hasSuffix(".json") || $0.hasSuffix(".ndjson") }
                    .sorted()
                    .map { (p as NSString).appendingPathComponent($0) }
                if found.isEmpty {
                    report.files.append(.init(path: p, ok: false, patients: [], error: ImportIssue("folder holds no .json or .ndjson files", at: SourceLocation(file: p))))
                }
                files += found
            } else { files.append(p) }
        }
        var ndjson = RecordAssembler(pack: pack)
        var ndjsonStats = ImportStatistics()
        var ndjsonFiles: [String] = []
        for file in files {
            var stats = ImportStatistics()
            if file.hasSuffix(".ndjson") {
                do {
                    let resources = try readNDJSON(file, stats: &stats)
                    resources.forEach { ndjson.add($0) }
                    ndjsonFiles.append(file)
                    ndjsonStats.absorb(stats)
                } catch let issue as ImportIssue {
                    report.warnings += stats.warnings
                    report.files.append(.init(path: file, ok: false, patients: [], error: issue))
                } catch {
                    report.warnings += stats.warnings
                    report.files.append(.init(path: file, ok: false, patients: [], error: ImportIssue("\(error)", at: SourceLocation(file: file))))
                }
                continue
            }
            do {
                var assembler = RecordAssembler(pack: pack)
                try readJSON(file, into: &assembler, stats: &stats)
                let types = Set(stats.used.keys).union(stats.skipped.keys)
                if !types.isEmpty && types.isSubset(of: Self.referenceTypes) {
                    // Organisations, practitioners, locations (Synthea's hospitalInformation and
                    // practitionerInformation bundles): reference data, nothing of a patient.
                    report.merge(stats)
                    report.referenceFiles += 1
                    report.files.append(.init(path: file, ok: true, patients: [], error: nil, referenceData: true))
                    continue
                }
                let records = assembler.assemble(stats: &stats)
                guard !records.isEmpty else {
                    let cause = stats.warnings.first { $0.location.resource?.hasPrefix("Patient") ?? false || $0.message.hasPrefix("Patient") }
                    let what = assembler.hasPatient ? "no Patient of this file could be imported" : "this file holds clinical resources but no Patient"
                    throw ImportIssue(what + (cause.map { ": \($0.message)" } ?? ""), at: cause?.location ?? SourceLocation(file: file))
                }
                let counts = try write(Unit(files: [file], records: records))
                report.patientsNew += counts.new; report.patientsUpdated += counts.updated; report.patientsUnchanged += counts.unchanged
                report.merge(stats)
                report.files.append(.init(path: file, ok: true, patients: records.map(\.id), error: nil))
            } catch let issue as ImportIssue {
                report.warnings += stats.warnings
                report.files.append(.init(path: file, ok: false, patients: [], error: issue))
            } catch {
                report.warnings += stats.warnings
                report.files.append(.init(path: file, ok: false, patients: [], error: ImportIssue("could not be stored: \(error)", at: SourceLocation(file: file))))
            }
        }
        if !ndjsonFiles.isEmpty {
            let records = ndjson.assemble(stats: &ndjsonStats)
            do {
                guard !records.isEmpty else { throw Self.noPatient(in: ndjsonFiles[0], stats: ndjsonStats, what: "the NDJSON files hold") }
                let counts = try write(Unit(files: ndjsonFiles, records: records))
                report.patientsNew += counts.new; report.patientsUpdated += counts.updated; report.patientsUnchanged += counts.unchanged
                report.merge(ndjsonStats)
                for f in ndjsonFiles { report.files.append(.init(path: f, ok: true, patients: records.map(\.id), error: nil)) }
            } catch {
                report.warnings += ndjsonStats.warnings
                let issue = (error as? ImportIssue) ?? ImportIssue("could not be stored: \(error)", at: SourceLocation(file: ndjsonFiles[0]))
                for f in ndjsonFiles { report.files.append(.init(path: f, ok: false, patients: [], error: issue)) }
            }
        }
        return report
    }

    /// Resource types that describe no patient: a Bundle of only these is reference data.
    static let referenceTypes: Set<String> = ["Organization", "OrganizationAffiliation", "Practitioner", "PractitionerRole", "Location",
                                              "HealthcareService", "Endpoint", "Device", "Medication", "Substance", "InsurancePlan",
                                              "Group", "CodeSystem", "ValueSet", "ConceptMap", "StructureDefinition", "(entry without resource)"]

    /// Streams a Bundle (or reads a single resource) into `assembler`.
    func readJSON(_ file: String, into assembler: inout RecordAssembler, stats: inout ImportStatistics) throws {
        let url = URL(fileURLWithPath: file)
        let source: ByteSource
        do { source = try ByteSource(url: url) } catch {
            throw ImportIssue("cannot open: \(error.localizedDescription)", at: SourceLocation(file: file))
        }
        var pending: [FHIRResource] = []
        let summary: TopLevelScanner.Summary
        do {
            summary = try TopLevelScanner(source: source).scan { bytes, index, line in
                let location = SourceLocation(file: file, line: line, entry: index)
                let object: Any
                do { object = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
                    throw ImportIssue("entry is not valid JSON", at: location)
                }
                guard let entry = object as? [String: Any] else { throw ImportIssue("entry is not a JSON object", at: location) }
                guard let resource = entry["resource"] as? [String: Any] else {
                    stats.skipped["(entry without resource)", default: 0] += 1; return
                }
                if let r = try read(resource, fullUrl: entry["fullUrl"] as? String, location: location, stats: &stats) { pending.append(r) }
            }
        } catch let e as JSONScanError {
            throw ImportIssue(e.message, at: SourceLocation(file: file, line: e.line))
        }
        switch summary.resourceType {
        case nil:
            throw ImportIssue("not a FHIR resource: the top-level object has no resourceType", at: SourceLocation(file: file, line: 1))
        case "Bundle":
            if let t = summary.bundleType, !["transaction", "collection", "batch", "searchset", "document", "message", "history", "transaction-response", "batch-response"].contains(t) {
                throw ImportIssue("Bundle type '\(t)' is not a FHIR Bundle type", at: SourceLocation(file: file, line: 1))
            }
        default:
            // A single resource: small by nature, parse it whole.
            let data = try Data(contentsOf: url)
            guard let resource = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ImportIssue("not valid JSON", at: SourceLocation(file: file, line: 1))
            }
            if let r = try read(resource, fullUrl: nil, location: SourceLocation(file: file, line: 1), stats: &stats) { pending.append(r) }
        }
        pending.forEach { assembler.add($0) }
    }

    /// Reads NDJSON: every line one resource. A bad line fails the whole file.
    func readNDJSON(_ file: String, stats: inout ImportStatistics) throws -> [FHIRResource] {
        let source: ByteSource
        do { source = try ByteSource(url: URL(fileURLWithPath: file)) } catch {
            throw ImportIssue("cannot open: \(error.localizedDescription)", at: SourceLocation(file: file))
        }
        var out: [FHIRResource] = []
        var line: [UInt8] = []
        var lineNumber = 1
        func flush() throws {
            defer { line.removeAll(keepingCapacity: true); lineNumber = source.line }
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return }
            let location = SourceLocation(file: file, line: lineNumber)
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)), let resource = object as? [String: Any] else {
                throw ImportIssue("line is not a JSON object", at: location)
            }
            if let r = try read(resource, fullUrl: nil, location: location, stats: &stats) { out.append(r) }
        }
        while let b = try source.next() {
            if b == 0x0A { try flush() } else { line.append(b) }
        }
        try flush()
        return out
    }

    private func read(_ resource: [String: Any], fullUrl: String?, location: SourceLocation, stats: inout ImportStatistics) throws -> FHIRResource? {
        var loc = location
        let type = (resource["resourceType"] as? String) ?? "(no resourceType)"
        if let id = resource["id"] as? String { loc.resource = "\(type)/\(id)" }
        do {
            if let r = try ResourceReader.read(resource, fullUrl: fullUrl, location: loc, pack: pack) {
                stats.used[type, default: 0] += 1
                return r
            }
            stats.skipped[type, default: 0] += 1
            return nil
        } catch let issue as ImportIssue {
            stats.warnings.append(issue)
            stats.skipped[type, default: 0] += 1
            return nil
        }
    }
}

extension FHIRImporter {
    /// The error for a file that yields no patient: where the Patient that could not be used is
    /// and why, when there was one; otherwise that the file holds none.
    static func noPatient(in file: String, stats: ImportStatistics, what: String = "this file holds") -> ImportIssue {
        if let why = stats.warnings.first(where: { $0.location.resource?.hasPrefix("Patient/") == true || $0.message.hasPrefix("Patient") }) {
            return ImportIssue("no Patient could be imported: \(why.message)", at: why.location)
        }
        return ImportIssue("\(what) no Patient resource (the whole file was read)", at: SourceLocation(file: file))
    }
}
