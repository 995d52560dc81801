import Foundation
import Patients

/// Paths and shared setup for the test suites.
public enum TestSupport {
    /// The repository root (this file is Tests/TestSupport/TestSupport.swift).
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let knowledgeDirectory = repoRoot.appendingPathComponent("Knowledge")

    /// `../shared/fixtures/fhir` beside the checkout: real Synthea bundles, read in place.
    public static let fixtures = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/fhir")

    public static let pack: KnowledgePack = try! KnowledgePack(directory: knowledgeDirectory)

    public static var fixtureFiles: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: fixtures, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
    }

    /// A fresh temporary folder.
    public static func temporaryDirectory(_ name: String = "rounds-test") -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `text` to a new file in a temporary folder and returns its path.
    public static func write(_ text: String, name: String, in dir: URL? = nil) -> String {
        let d = dir ?? temporaryDirectory()
        let url = d.appendingPathComponent(name)
        try! Data(text.utf8).write(to: url)
        return url.path
    }

    /// A minimal FHIR R4 transaction Bundle with the given resources (JSON objects as text).
    public static func bundle(_ resources: [String], type: String = "transaction") -> String {
        let entries = resources.enumerated().map { i, r in
            #"{"fullUrl": "urn:uuid:00000000-0000-0000-0000-\#(String(format: "%012d", i))", "resource": \#(r), "request": {"method": "POST", "url": "X"}}"#
        }
        return #"{"resourceType": "Bundle", "type": "\#(type)", "entry": [\#(entries.joined(separator: ",\n"))]}"#
    }
}

extension TestSupport {
    /// Writes a FHIR Bundle of about `megabytes` MB to `path`, streaming: one patient with
    /// `observations` HbA1c/eGFR observations and enough DocumentReferences carrying base64
    /// clinical notes (64 KiB each) to reach the size. Returns the byte count.
    @discardableResult
    public static func writeLargeBundle(to path: String, megabytes: Int, observations: Int) throws -> Int {
        FileManager.default.createFile(atPath: path, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? h.close() }
        var written = 0
        func put(_ s: String) { let d = Data(s.utf8); h.write(d); written += d.count }
        put(#"{"resourceType": "Bundle", "type": "transaction", "entry": ["#)
        put(#"{"fullUrl": "urn:uuid:big-patient", "resource": {"resourceType": "Patient", "id": "big-patient", "gender": "female", "birthDate": "1941-03-03"}}"#)
        for i in 0..<observations {
            let day = String(format: "%04d-%02d-%02d", 1990 + (i / 300) % 35, 1 + (i / 25) % 12, 1 + i % 25)
            let (code, value, unit) = i % 2 == 0 ? ("4548-4", 6.0 + Double(i % 40) / 10, "%") : ("33914-3", 40.0 + Double(i % 50), "mL/min/{1.73_m2}")
            put(#",{"fullUrl": "urn:uuid:obs-\#(i)", "resource": {"resourceType": "Observation", "id": "obs-\#(i)", "status": "final", "subject": {"reference": "urn:uuid:big-patient"}, "effectiveDateTime": "\#(day)T10:00:00-05:00", "code": {"coding": [{"system": "http://loinc.org", "code": "\#(code)"}]}, "valueQuantity": {"value": \#(value), "unit": "\#(unit)"}}}"#)
        }
        let note = Data((0..<49_152).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }).base64EncodedString()
        var n = 0
        while written < megabytes * 1_000_000 {
            put(#",{"fullUrl": "urn:uuid:doc-\#(n)", "resource": {"resourceType": "DocumentReference", "id": "doc-\#(n)", "status": "current", "subject": {"reference": "urn:uuid:big-patient"}, "content": [{"attachment": {"contentType": "text/plain", "data": "\#(note)"}}]}}"#)
            n += 1
        }
        put("]}\n")
        return written
    }
}
