import Foundation
import Testing
@testable import Patients
import TestSupport

/// Imports into memory (no store): what the importer reads from real and broken inputs.
@Suite struct FHIRImportTests {
    let importer = FHIRImporter(pack: TestSupport.pack)

    /// Runs the importer and keeps the records it would have written.
    func read(_ paths: [String]) -> (ImportReport, [PatientRecord]) {
        var records: [PatientRecord] = []
        let report = importer.run(paths: paths) { unit in records += unit.records; return (unit.records.count, 0, 0) }
        return (report, records)
    }

    @Test func everyFixtureImports() throws {
        let files = TestSupport.fixtureFiles
        try #require(files.count >= 8, "fixtures not found at \(TestSupport.fixtures.path)")
        let (report, records) = read(files.map(\.path))
        #expect(!report.failed, "\(report.errors)")
        #expect(records.count == files.count)
        #expect(report.used["Patient"] == files.count)
        #expect(report.skipped["Claim", default: 0] > 0)
        for r in records {
            #expect(!r.visits.isEmpty, "\(r.id) has no visits")
            #expect(r.visits.map(\.date) == r.visits.map(\.date).sorted())
        }
    }

    /// Latest HbA1c and eGFR, and the active medications, against an independent reading of each file.
    @Test(arguments: TestSupport.fixtureFiles)
    func latestValuesAndMedicationsMatchTheFile(_ file: URL) throws {
        let (report, records) = read([file.path])
        #expect(!report.failed)
        let record = try #require(records.first)
        let bundle = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let resources = (bundle["entry"] as! [[String: Any]]).map { $0["resource"] as! [String: Any] }
        func latest(_ loinc: String) -> (Date, Double)? {
            var best: (Date, Double)?
            for r in resources where r["resourceType"] as? String == "Observation" {
                let codes = ((r["code"] as? [String: Any])?["coding"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
                guard codes.contains(loinc), let t = (r["effectiveDateTime"] as? String).flatMap(ClinicalCalendar.parse),
                      let v = ((r["valueQuantity"] as? [String: Any])?["value"] as? NSNumber)?.doubleValue else { continue }
                if best == nil || t > best!.0 { best = (t, v) }
            }
            return best
        }
        func imported(_ loinc: String) -> (Date, Double)? {
            record.visits.flatMap(\.observations).filter { $0.code == loinc }.max { $0.time < $1.time }.map { ($0.time, $0.value) }
        }
        for code in ["4548-4", "33914-3", "39156-5"] {
            let expected = latest(code), got = imported(code)
            #expect(expected?.0 == got?.0 && expected?.1 == got?.1, "\(file.lastPathComponent) \(code): file \(String(describing: expected)), imported \(String(describing: got))")
        }
        // Medications still active at the end of the record are the file's `active` requests.
        var activeInFile = Set<String>()
        for r in resources where r["resourceType"] as? String == "MedicationRequest" && r["status"] as? String == "active" {
            if let code = ((r["medicationCodeableConcept"] as? [String: Any])?["coding"] as? [[String: Any]])?.first?["code"] as? String { activeInFile.insert(code) }
            if let ref = (r["medicationReference"] as? [String: Any])?["reference"] as? String,
               let med = (bundle["entry"] as! [[String: Any]]).first(where: { $0["fullUrl"] as? String == ref })?["resource"] as? [String: Any],
               let code = ((med["code"] as? [String: Any])?["coding"] as? [[String: Any]])?.first?["code"] as? String { activeInFile.insert(code) }
        }
        #expect(Set(record.medications.filter { $0.end == nil }.map(\.code)) == activeInFile, "\(file.lastPathComponent)")
    }

    @Test func dirkKuhlmansLastVisitAsTheModelSeesIt() throws {
        let file = TestSupport.fixtures.appendingPathComponent("Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json")
        let (report, records) = read([file.path])
        let r = try #require(records.first)
        #expect(r.sex == .male)
        #expect(ClinicalCalendar.dayString(r.birthDate) == "1970-02-04")
        let m = FeatureExtractor(pack: TestSupport.pack).matrix(for: r)
        let last = try #require(m.rows.last)
        func v(_ c: String) -> Float { last[m.column(c)!] }
        #expect(v("on_metformin") == 1)
        #expect(v("on_insulin") == 1)       // Humulin 70/30: premixed insulin is insulin therapy
        #expect(v("hypertension") == 1)
        #expect(v("ckd") == 1)              // coded CKD stage 1
        #expect(v("sex_female") == 0)
        // Synthea writes 3.01 % for him on metformin and insulin from 2018-04 on: implausible (below
        // 4 %), reported with file and entry, never used; his last plausible HbA1c (6.01 %,
        // 2018-02-07) is over a year old at the last visit (2019-05-01), so the model sees none.
        #expect(v("hba1c_missing") == 1 && v("hba1c").isNaN)
        let implausible = report.warnings.filter { $0.message.hasPrefix("hba1c 3.01") && $0.message.contains("implausible") }
        #expect(implausible.count == 5)
        #expect(implausible.allSatisfy { $0.location.file == file.path && $0.location.entry != nil && $0.location.resource != nil })
        #expect(report.valueProblems.contains { $0.feature == "hba1c" && $0.count == 5 })
    }

    @Test func parkerCasperGetsCKDFromHisEGFR() throws {
        let file = TestSupport.fixtures.appendingPathComponent("Parker_Casper_6d0c6969-6843-47e1-9921-d9bf11b1df31.json")
        let (_, records) = read([file.path])
        let r = try #require(records.first)
        #expect(r.deceasedAt != nil)
        #expect(!r.conditions.contains { TestSupport.pack.features.conditionFeature(code: $0.code, display: $0.display)?.0.id == "ckd" })
        let ex = FeatureExtractor(pack: TestSupport.pack)
        let facts = ex.knownValues(for: r, asOf: r.visits.count - 1)
        if let egfr = facts["egfr"]?.value, egfr < 60 {
            #expect(ex.conditionFeatures(for: r, asOf: r.visits.count - 1).contains("ckd"))
        }
        #expect(ex.conditionFeatures(for: r, asOf: r.visits.count - 1).contains("heart_failure"))
    }

    // MARK: - Bad input

    @Test func truncatedJSONFailsWithItsPlace() {
        let text = TestSupport.bundle([#"{"resourceType": "Patient", "id": "p1", "birthDate": "1950-01-01"}"#])
        let path = TestSupport.write(String(text.prefix(text.count - 30)), name: "truncated.json")
        let (report, records) = read([path])
        #expect(report.failed && records.isEmpty)
        #expect(report.errors.first?.message.contains("truncated") == true)
        #expect(report.errors.first?.location.file == path)
    }

    /// Found by the stress script (benchmarks/stress): a birthDate of the wrong JSON type was
    /// ignored, and the file failed with "no Patient" and no position.
    @Test func aPatientThatCannotBeUsedIsNamedWithItsPlace() {
        for value in ["42", "{\"year\": 1950}", "[\"1950-01-01\"]", "true"] {
            let path = TestSupport.write(TestSupport.bundle([#"{"resourceType": "Observation", "status": "final"}"#,
                                                             #"{"resourceType": "Patient", "id": "p1", "birthDate": \#(value)}"#]), name: "wrong-type.json")
            let (report, records) = read([path])
            let error = report.errors.first
            #expect(report.failed && records.isEmpty)
            #expect(error?.message.contains("birthDate is a") == true && error?.message.contains("not a FHIR date") == true, "\(value): \(String(describing: error))")
            #expect(error?.location.file == path && error?.location.entry == 1 && error?.location.line != nil, "\(String(describing: error))")
        }
        let none = TestSupport.write(TestSupport.bundle([#"{"resourceType": "Observation", "status": "final"}"#]), name: "no-patient.json")
        #expect(read([none]).0.errors.first?.message.contains("no Patient resource (the whole file was read)") == true)
    }

    @Test func nonFHIRJSONIsRefused() {
        let a = TestSupport.write(#"{"name": "not fhir", "values": [1, 2, 3]}"#, name: "plain.json")
        let b = TestSupport.write(#"[{"resourceType": "Patient"}]"#, name: "array.json")
        let c = TestSupport.write("hello", name: "text.json")
        let (report, _) = read([a, b, c])
        #expect(report.files.allSatisfy { !$0.ok })
        #expect(report.errors[0].message.contains("no resourceType"))
        #expect(report.errors[1].message.contains("array"))
    }

    @Test func oneBadFileDoesNotStopTheOthers() throws {
        let dir = TestSupport.temporaryDirectory()
        let good = TestSupport.write(TestSupport.bundle([#"{"resourceType": "Patient", "id": "good", "birthDate": "1950-01-01", "gender": "female"}"#,
                                                         #"{"resourceType": "Encounter", "id": "e1", "subject": {"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}, "period": {"start": "2020-01-01T10:00:00Z"}}"#,
                                                         #"{"resourceType": "Observation", "status": "final", "subject": {"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}, "encounter": {"reference": "urn:uuid:00000000-0000-0000-0000-000000000001"}, "effectiveDateTime": "2020-01-01T10:00:00Z", "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}, "valueQuantity": {"value": 8.1, "unit": "%"}}"#]),
                                     name: "a-good.json", in: dir)
        _ = TestSupport.write(#"{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient", "id": "x"}}, {"resource": {]}"#, name: "b-bad.json", in: dir)
        let (report, records) = read([dir.path])
        #expect(report.files.count == 2)
        #expect(report.files.first { $0.path == good }?.ok == true)
        #expect(records.map(\.id) == ["good"])
        #expect(report.failed)
        #expect(records[0].visits.first?.observations.first?.value == 8.1)
    }

    @Test func danglingReferencesAreReportedAndSkipped() throws {
        let text = TestSupport.bundle([
            #"{"resourceType": "Patient", "id": "p1", "birthDate": "1960-05-05"}"#,
            #"{"resourceType": "Observation", "status": "final", "subject": {"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}, "effectiveDateTime": "2020-03-01", "code": {"coding": [{"system": "http://loinc.org", "code": "33914-3"}]}, "valueQuantity": {"value": 52, "unit": "mL/min/{1.73_m2}"}}"#,
            #"{"resourceType": "Observation", "status": "final", "subject": {"reference": "urn:uuid:99999999-dead-beef-0000-000000000000"}, "effectiveDateTime": "2020-03-01", "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}, "valueQuantity": {"value": 9, "unit": "%"}}"#,
            #"{"resourceType": "MedicationRequest", "status": "active", "subject": {"reference": "Patient/p1"}, "authoredOn": "2020-03-01", "medicationReference": {"reference": "Medication/missing"}}"#,
            #"{"resourceType": "Encounter", "id": "e", "subject": {"reference": "Patient/p1"}, "serviceProvider": {"reference": "Organization?identifier=https://github.com/synthetichealth/synthea|123"}, "period": {"start": "2020-03-01T09:00:00-05:00"}}"#,
        ])
        let path = TestSupport.write(text, name: "dangling.json")
        let (report, records) = read([path])
        #expect(!report.failed)
        let r = try #require(records.first)
        #expect(r.visits.flatMap(\.observations).map(\.code) == ["33914-3"])
        #expect(report.warnings.count == 2)
        #expect(report.warnings.contains { $0.message.contains("urn:uuid:99999999") && $0.location.entry == 2 })
        #expect(report.warnings.contains { $0.message.contains("Medication/missing") })
    }

    @Test func unknownUnitsAndOutOfRangeValuesAreReportedNotUsed() throws {
        let obs = { (code: String, value: Double, unit: String) in
            #"{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2021-01-01T08:00:00+05:30", "code": {"coding": [{"system": "http://loinc.org", "code": "\#(code)"}]}, "valueQuantity": {"value": \#(value), "code": "\#(unit)"}}"#
        }
        let text = TestSupport.bundle([#"{"resourceType": "Patient", "id": "p1", "birthDate": "1960-05-05"}"#,
                                       obs("4548-4", 7.5, "g/dL"), obs("33914-3", 480, "mL/min"), obs("2160-0", 97, "umol/L")])
        let (report, records) = read([TestSupport.write(text, name: "units.json")])
        #expect(Set(report.valueProblems.map(\.feature)) == ["hba1c", "egfr"])
        let r = try #require(records.first)
        let known = FeatureExtractor(pack: TestSupport.pack).knownValues(for: r, asOf: 0)
        #expect(known["hba1c"] == nil && known["egfr"] == nil)
        #expect(abs(known["creatinine"]!.value - 97 * 0.011312) < 1e-12)
    }

    @Test func componentsTwoCodingsContainedAndReferencedMedications() throws {
        let text = TestSupport.bundle([
            #"{"resourceType": "Patient", "id": "p1", "birthDate": "1955-07-07", "gender": "male"}"#,
            #"{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2021-01-01T08:00:00Z", "code": {"coding": [{"system": "http://loinc.org", "code": "55284-4"}]}, "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 141, "code": "mm[Hg]"}}, {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": 88, "code": "mm[Hg]"}}]}"#,
            #"{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2021-01-01T08:00:00Z", "code": {"coding": [{"system": "http://loinc.org", "code": "59261-8"}, {"system": "http://loinc.org", "code": "4548-4"}]}, "valueQuantity": {"value": 64, "code": "mmol/mol"}}"#,
            #"{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2021-01-01T08:00:00Z", "code": {"coding": [{"system": "http://loinc.org", "code": "72166-2"}]}, "valueCodeableConcept": {"text": "Never smoker"}}"#,
            #"{"resourceType": "Medication", "id": "m1", "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1545653", "display": "empagliflozin"}]}}"#,
            #"{"resourceType": "MedicationRequest", "status": "active", "subject": {"reference": "Patient/p1"}, "authoredOn": "2020-06-01", "medicationReference": {"reference": "urn:uuid:00000000-0000-0000-0000-000000000004"}}"#,
            ##"{"resourceType": "MedicationRequest", "status": "active", "subject": {"reference": "Patient/p1"}, "authoredOn": "2020-06-01", "contained": [{"resourceType": "Medication", "id": "c", "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "0", "display": "Sitagliptin 100 MG"}]}}], "medicationReference": {"reference": "#c"}}"##,
        ])
        let (report, records) = read([TestSupport.write(text, name: "misc.json")])
        #expect(!report.failed)
        let r = try #require(records.first)
        let m = FeatureExtractor(pack: TestSupport.pack).matrix(for: r)
        let row = try #require(m.rows.last)
        #expect(row[m.column("sbp")!] == 141 && row[m.column("dbp")!] == 88)
        #expect(abs(row[m.column("hba1c")!] - Float(64 * 0.09148 + 2.152)) < 1e-5)
        #expect(row[m.column("on_sglt2")!] == 1 && row[m.column("on_dpp4")!] == 1)
    }

    @Test func bulkExportNDJSONAcrossFiles() throws {
        let dir = TestSupport.temporaryDirectory()
        _ = TestSupport.write(#"{"resourceType": "Patient", "id": "n1", "birthDate": "1948-12-01", "gender": "female"}"# + "\n" +
                              #"{"resourceType": "Patient", "id": "n2", "birthDate": "1970-01-01", "gender": "male"}"# + "\n", name: "Patient.ndjson", in: dir)
        _ = TestSupport.write(#"{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/n1"}, "effectiveDateTime": "2022-02-02", "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}, "valueQuantity": {"value": 9.4, "unit": "%"}}"# + "\n\n" +
                              #"{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/n2"}, "effectiveDateTime": "2022-02-03", "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}, "valueQuantity": {"value": 6.4, "unit": "%"}}"#, name: "Observation.ndjson", in: dir)
        let bad = TestSupport.write(#"{"resourceType": "Condition", "#, name: "Condition.ndjson", in: dir)
        let (report, records) = read([dir.path])
        #expect(Set(records.map(\.id)) == ["n1", "n2"])
        #expect(records.first { $0.id == "n1" }?.visits.first?.observations.first?.value == 9.4)
        #expect(report.files.first { $0.path == bad }?.ok == false)
        #expect(report.files.first { $0.path == bad }?.error?.location.line == 1)
    }
}

/// A Synthea output folder: patient bundles beside the hospital and practitioner bundles.
@Suite struct SyntheaFolderTests {
    @Test func aSyntheaOutputFolderImportsWithReferenceBundlesCounted() throws {
        let dir = TestSupport.temporaryDirectory("synthea-out")
        for f in TestSupport.fixtureFiles { try FileManager.default.copyItem(at: f, to: dir.appendingPathComponent(f.lastPathComponent)) }
        _ = TestSupport.write(#"{"resourceType": "Bundle", "type": "batch", "entry": [{"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Organization", "id": "o1", "name": "Clinic"}, "request": {"method": "POST", "url": "Organization"}}, {"fullUrl": "urn:uuid:l1", "resource": {"resourceType": "Location", "id": "l1", "name": "Clinic"}, "request": {"method": "POST", "url": "Location"}}]}"#, name: "hospitalInformation1700000000000.json", in: dir)
        _ = TestSupport.write(#"{"resourceType": "Bundle", "type": "batch", "entry": [{"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Practitioner", "id": "p1"}, "request": {"method": "POST", "url": "Practitioner"}}]}"#, name: "practitionerInformation1700000000000.json", in: dir)
        var records: [PatientRecord] = []
        let report = FHIRImporter(pack: TestSupport.pack).run(paths: [dir.path]) { u in records += u.records; return (u.records.count, 0, 0) }
        #expect(!report.failed, "\(report.errors)")
        #expect(report.referenceFiles == 2 && records.count == TestSupport.fixtureFiles.count)
        // Every real diabetic patient's record shows type 2 diabetes (SNOMED 44054006 "Diabetes").
        #expect(!report.unmapped.contains { $0.code == "44054006" || $0.code == "15777000" || $0.code == "2085-9" || $0.code == "314076" })
        let pack = TestSupport.pack
        let diabetic = records.filter { r in r.conditions.contains { $0.code == "44054006" } }
        #expect(diabetic.count >= 6)
        for r in diabetic {
            let review = try ReviewPoint.resolve(r)
            #expect(pack.context.conditions(of: r, at: review.date).contains { $0.condition.id == "type2_diabetes" }, "\(r.id)")
            #expect(r.encounters.count >= r.visits.count)
        }
    }

    /// For every fixture the review date is the last encounter (before death), never a death certification.
    @Test(arguments: TestSupport.fixtureFiles)
    func theReviewDateIsTheLastEncounter(_ file: URL) throws {
        var records: [PatientRecord] = []
        _ = FHIRImporter(pack: TestSupport.pack).run(paths: [file.path]) { u in records += u.records; return (u.records.count, 0, 0) }
        let r = try #require(records.first)
        let bundle = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let encounters = (bundle["entry"] as! [[String: Any]]).map { $0["resource"] as! [String: Any] }.filter {
            $0["resourceType"] as? String == "Encounter" && !(($0["type"] as? [[String: Any]])?.first?["text"] as? String ?? "").contains("Death")
        }
        let starts = encounters.compactMap { (($0["period"] as? [String: Any])?["start"] as? String).flatMap(ClinicalCalendar.parse) }
        let death = r.deceasedAt.map(ClinicalCalendar.endOfDay) ?? .distantFuture
        let expected = try #require(starts.filter { $0 <= death }.max())
        let review = try ReviewPoint.resolve(r)
        #expect(review.date == expected, "\(file.lastPathComponent): \(review.day) vs \(ClinicalCalendar.dayString(expected))")
    }
}
