import Foundation
import Testing
import Cohort
import Patients
@testable import Store
import TestSupport

@Suite struct RecordCodecTests {
    @Test func cohortRecordsRoundTripBitForBit() throws {
        let g = CohortGenerator(seed: 3)
        for i in 0..<100 {
            let r = g.patient(i).record
            #expect(try RecordCodec.decode(RecordCodec.encode(r)) == r)
        }
    }

    @Test func importedRecordsRoundTrip() throws {
        let importer = FHIRImporter(pack: TestSupport.pack)
        var records: [PatientRecord] = []
        _ = importer.run(paths: TestSupport.fixtureFiles.map(\.path)) { records += $0.records; return (0, 0, 0) }
        #expect(records.count >= 8)
        for r in records { #expect(try RecordCodec.decode(RecordCodec.encode(r)) == r) }
        // Imported records keep every encounter (version 2); records without any stay version 1.
        #expect(records.allSatisfy { !$0.encounters.isEmpty && Array(RecordCodec.encode($0).prefix(4)) == Array("RPR2".utf8) })
        var bare = records[0]; bare.encounters = []
        #expect(Array(RecordCodec.encode(bare).prefix(4)) == Array("RPR1".utf8))
        #expect(try RecordCodec.decode(RecordCodec.encode(bare)) == bare)
    }

    @Test func damagedBytesAreRefused() {
        let bytes = RecordCodec.encode(CohortGenerator(seed: 3).patient(0).record)
        #expect(throws: StoreError.self) { try RecordCodec.decode(Array(bytes.prefix(bytes.count / 2))) }
        #expect(throws: StoreError.self) { try RecordCodec.decode(bytes + [0]) }
        #expect(throws: StoreError.self) { try RecordCodec.decode(Array("XXXX".utf8) + bytes.dropFirst(4)) }
    }
}

@Suite struct RoundsStoreTests {
    func newStore() throws -> RoundsStore {
        try RoundsStore(path: TestSupport.temporaryDirectory().appendingPathComponent("nested/dir/rounds.sqlite").path)
    }

    func summary(_ r: PatientRecord) -> PatientSummaryFields {
        PatientSummaryFields(conditions: FeatureExtractor(pack: TestSupport.pack).conditionFeatures(for: r, asOf: r.visits.count - 1))
    }

    @Test func createdPrivateInWALModeWithMigrations() throws {
        let store = try newStore()
        let attrs = try FileManager.default.attributesOfItem(atPath: store.path)
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        let dir = try FileManager.default.attributesOfItem(atPath: (store.path as NSString).deletingLastPathComponent)
        #expect((dir[.posixPermissions] as? Int) == 0o700)
        #expect(try store.journalMode() == "wal")
        #expect(try store.appliedMigrations() == ["v1-patients", "v2-visit-labels", "v3-decisions-audit", "v4-model-versions", "v5-audit-merkle", "v6-visit-utilities"])
    }

    @Test func defaultPathAndOverrides() {
        #expect(RoundsStore.resolvePath(explicit: nil, environment: ["HOME": "/home/x"]) == "/home/x/.rounds/rounds.sqlite")
        #expect(RoundsStore.resolvePath(explicit: nil, environment: ["HOME": "/home/x", "ROUNDS_DB": "/tmp/a.sqlite"]) == "/tmp/a.sqlite")
        #expect(RoundsStore.resolvePath(explicit: "/tmp/b.sqlite", environment: ["ROUNDS_DB": "/tmp/a.sqlite"]) == "/tmp/b.sqlite")
    }

    @Test func unopenableStoreSaysWhy() {
        #expect(throws: StoreError.self) { try RoundsStore(path: "/proc/rounds/nope.sqlite") }
        let notADatabase = TestSupport.write(String(repeating: "not sqlite ", count: 500), name: "junk.sqlite")
        let error = #expect(throws: StoreError.self) { try RoundsStore(path: notADatabase) }
        #expect(error?.description.contains(notADatabase) == true)
    }

    @Test func savingTheSameRecordsTwiceChangesNothing() throws {
        let store = try newStore()
        let records = (0..<5).map { CohortGenerator(seed: 1).patient($0).record }.map { r -> PatientRecord in
            var r = r; r.origin = .imported; return r
        }
        #expect(try store.save(imported: records, source: "t", summarize: summary) == (5, 0, 0))
        #expect(try store.save(imported: records, source: "t", summarize: summary) == (0, 0, 5))
        var changed = records[2]
        changed.visits[0].observations[0].value += 0.1
        #expect(try store.save(imported: [changed], source: "t", summarize: summary) == (0, 1, 0))
        #expect(try store.patient(id: changed.id) == changed)
        #expect(try store.patient(id: "nobody") == nil)
    }

    @Test func cohortReplacementKeepsImportedPatientsAndIsDeterministic() throws {
        let a = try newStore(), b = try newStore()
        var imported = CohortGenerator(seed: 99).patient(0).record
        imported.id = "imported-1"; imported.origin = .imported
        _ = try a.save(imported: [imported], source: "t", summarize: summary)
        func fill(_ store: RoundsStore, size: Int) throws {
            let g = CohortGenerator(seed: 5)
            try store.replaceCohort(seed: 5, size: size, generator: CohortGenerator.version) { write in
                for start in stride(from: 0, to: size, by: 40) {
                    try write((start..<min(size, start + 40)).map { i in
                        let p = g.patient(i)
                        return SyntheticPatient(record: p.record, summary: summary(p.record), label: p.label, traits: p.traits.values, utilities: p.utilities, visitLabels: p.visitLabels,
                                                visitUtilities: p.visitUtilities)
                    })
                }
            }
        }
        try fill(a, size: 100); try fill(a, size: 90); try fill(b, size: 90)
        #expect(try a.patientCount(origin: .synthetic) == 90)
        #expect(try a.patient(id: "imported-1") == imported)
        for id in ["demo-00001", "demo-00050", "demo-00090"] { #expect(try a.patient(id: id) == b.patient(id: id)) }
        #expect(try a.cohortInfo()?.size == 90)
        let truth = try #require(try a.cohortTruth(id: "demo-00007"))
        let p = CohortGenerator(seed: 5).patient(6)
        #expect(truth.label == p.label && truth.utilities == p.utilities && LatentTraits(values: truth.traits) == p.traits)
        #expect(try a.cohortLabelCounts().values.reduce(0, +) == 90)
        let labelled = try a.labelledPatients()
        #expect(labelled.count == 90)
        #expect(labelled[6].visitLabels == p.visitLabels && labelled[6].visitLabels.count == p.record.visits.count)
        // Every visit's utilities come back (float32), and their argmax is that visit's label.
        for k in p.record.visits.indices {
            let u = try #require(labelled[6].utilities(atVisit: k))
            #expect(u == p.visitUtilities[k].map { Float($0) })
            #expect(u.indices.max { (u[$0], -$0) < (u[$1], -$1) } == p.visitLabels[k])
        }
        #expect(labelled[6].utilities(atVisit: p.record.visits.count) == nil)
    }

    @Test func listingFilters() throws {
        let store = try newStore()
        let g = CohortGenerator(seed: 11)
        let patients = (0..<200).map { g.patient($0) }
        try store.replaceCohort(seed: 11, size: 200, generator: "t") { write in
            try write(patients.map { SyntheticPatient(record: $0.record, summary: summary($0.record), label: $0.label, traits: $0.traits.values, utilities: $0.utilities, visitLabels: $0.visitLabels) })
        }
        let all = try store.patients()
        #expect(all.count == 200 && all.map(\.id) == all.map(\.id).sorted())
        let hf = try store.patients(PatientFilter(conditions: ["heart_failure"]))
        let expectedHF = patients.filter { summary($0.record).conditions.contains("heart_failure") }.map(\.record.id)
        #expect(hf.map(\.id) == expectedHF && !hf.isEmpty)
        let women = try store.patients(PatientFilter(sex: .female, minAge: 65))
        #expect(women.allSatisfy { $0.sex == .female && $0.age! >= 65 })
        #expect(women.count == patients.filter { $0.record.sex == .female && $0.record.age(at: $0.record.visits.last!.date) >= 65 }.count)
        #expect(try store.patients(PatientFilter(limit: 7)).count == 7)
        #expect(try store.patients(PatientFilter(search: "00042")).map(\.id) == ["demo-00042"])
    }
}
