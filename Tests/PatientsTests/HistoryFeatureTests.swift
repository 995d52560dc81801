import Foundation
import Testing
import Patients
import TestSupport

/// The history features of `Knowledge/features.yaml`, checked against a timeline worked out by hand.
@Suite struct HistoryFeatureTests {
    let pack = TestSupport.pack
    static let day = 86400.0, year = 365.2425 * 86400

    /// Five visits, 100 days apart from 2020-01-01 (days 0, 100, 200, 300, 400):
    /// metformin from day 0 (one hour after the visit) for good; a sulfonylurea (glipizide)
    /// from day 100 until day 300; premixed insulin (a related drug) from day 300.
    /// HbA1c 8.4 (day 0), 7.5 (day 100), none at day 200, 7.1 (day 300), 7.0 (day 400).
    func record() -> PatientRecord {
        let d0 = ClinicalCalendar.day(2020, 1, 1)
        func at(_ days: Double) -> Date { d0.addingTimeInterval(days * Self.day) }
        func a1c(_ v: Double, _ days: Double) -> Observation { Observation(code: "4548-4", display: "HbA1c", value: v, unit: "%", time: at(days)) }
        let visits = [
            Visit(id: "v1", date: at(0), kind: "ambulatory", observations: [a1c(8.4, 0)]),
            Visit(id: "v2", date: at(100), kind: "ambulatory", observations: [a1c(7.5, 100)]),
            Visit(id: "v3", date: at(200), kind: "ambulatory", observations: [Observation(code: "33914-3", display: "eGFR", value: 70, unit: "mL/min/{1.73_m2}", time: at(200))]),
            Visit(id: "v4", date: at(300), kind: "ambulatory", observations: [a1c(7.1, 300)]),
            Visit(id: "v5", date: at(400), kind: "ambulatory", observations: [a1c(7.0, 400)]),
        ]
        let meds = [
            MedicationEntry(code: "6809", display: "Metformin", start: at(0).addingTimeInterval(3600)),
            MedicationEntry(code: "4821", display: "Glipizide 5 MG Oral Tablet", start: at(100).addingTimeInterval(3600), end: at(300)),
        ] + premixed(at(300).addingTimeInterval(3600))
        return PatientRecord(id: "h1", sex: .female, birthDate: ClinicalCalendar.day(1960, 1, 1), origin: .imported, visits: visits, conditions: [], medications: meds)
    }

    /// A related insulin drug of the pack (insulin lispro, RxNorm 86009), so that `include_related` is exercised.
    func premixed(_ start: Date) -> [MedicationEntry] { [MedicationEntry(code: "86009", display: "Insulin lispro", start: start)] }

    func column(_ m: FeatureMatrix, _ name: String) -> [Float] {
        let j = m.column(name)!
        return m.rows.map { $0[j] }
    }

    @Test func daysSinceThePreviousVisit() {
        let m = FeatureExtractor(pack: pack).matrix(for: record())
        let d = column(m, "days_since_previous_visit")
        #expect(d[0].isNaN && column(m, "days_since_previous_visit_missing") == [1, 0, 0, 0, 0])
        #expect(Array(d[1...]) == [100, 100, 100, 100])
    }

    @Test func yearsOnEachCurrentDrug() {
        let m = FeatureExtractor(pack: pack).matrix(for: record())
        let h = Float(3600 / Self.year)
        // Metformin starts an hour after visit 1: 0 at it, then (100·k days − 1 hour) in years.
        let met = column(m, "years_on_metformin")
        let expected: [Float] = [0] + (1...4).map { Float(Double($0) * 100 * Self.day / Self.year) - h }
        for (a, b) in zip(met, expected) { #expect(abs(a - b) < 1e-5, "\(met) vs \(expected)") }
        // The sulfonylurea is taken at visits 3 only (started after visit 2, stopped at visit 4).
        let su = column(m, "years_on_sulfonylurea")
        #expect(su[0] == 0 && su[1] == 0 && abs(su[2] - (Float(100 * Self.day / Self.year) - h)) < 1e-5 && su[3] == 0 && su[4] == 0)
        #expect(column(m, "years_on_tzd") == [0, 0, 0, 0, 0])
        #expect(pack.treatments.map(code: "86009", display: "")?.related == true)
        let ins = column(m, "years_on_basal_insulin")
        #expect(ins[3] == 0 && abs(ins[4] - (Float(100 * Self.day / Self.year) - h)) < 1e-5)
    }

    @Test func stoppedDrugs() {
        let m = FeatureExtractor(pack: pack).matrix(for: record())
        #expect(column(m, "stopped_sulfonylurea") == [0, 0, 0, 1, 1])
        #expect(column(m, "stopped_metformin") == [0, 0, 0, 0, 0])
        #expect(column(m, "stopped_glp1") == [0, 0, 0, 0, 0])
    }

    @Test func observedResponses() {
        let m = FeatureExtractor(pack: pack).matrix(for: record())
        // Metformin: baseline 8.4 (day 0, before the start); the first value 60+ days after the
        // start is 7.5 (day 100): -0.9 from visit 2 on, unknown at visit 1.
        let met = column(m, "response_metformin")
        #expect(met[0].isNaN && column(m, "response_metformin_missing")[0] == 1)
        for v in met[1...] { #expect(abs(v - (-0.9)) < 1e-5) }
        // Sulfonylurea: baseline 7.5 (day 100); no HbA1c at day 200; day 300 (the stop day,
        // no later than the stop) gives 7.1: -0.4 from visit 4 on, kept after the stop.
        let su = column(m, "response_sulfonylurea")
        #expect(su[0].isNaN && su[1].isNaN && su[2].isNaN)
        #expect(abs(su[3] - (-0.4)) < 1e-5 && abs(su[4] - (-0.4)) < 1e-5)
        #expect(column(m, "response_sulfonylurea_missing") == [1, 1, 1, 0, 0])
        // Insulin from day 300: baseline 7.1; day 400 is 100 days later: 7.0 - 7.1.
        let ins = column(m, "response_basal_insulin")
        #expect(ins[3].isNaN && abs(ins[4] - (-0.1)) < 1e-5)
        #expect(column(m, "response_tzd").allSatisfy { $0.isNaN })
    }

    @Test func aBaselineOlderThanTheCarryForwardWindowIsNoBaseline() {
        var r = record()
        // Move the only pre-metformin HbA1c 400 days back: beyond HbA1c's 365-day window.
        r.visits[0].observations[0].time = r.visits[0].date.addingTimeInterval(-400 * Self.day)
        let m = FeatureExtractor(pack: pack).matrix(for: r)
        #expect(column(m, "response_metformin").allSatisfy { $0.isNaN })
    }

    @Test func historyFeaturesAreDefinedOnlyWithWhatTheyNeed() throws {
        let dir = TestSupport.temporaryDirectory()
        try FileManager.default.copyItem(at: TestSupport.knowledgeDirectory.appendingPathComponent("treatments.yaml"), to: dir.appendingPathComponent("treatments.yaml"))
        func load(_ feature: String) -> String? {
            let yaml = "version: 1\nfeatures:\n  - {id: hba1c, name: HbA1c, kind: lab, loinc: [\"4548-4\"], unit: \"%\"}\n  - " + feature + "\n"
            try? Data(yaml.utf8).write(to: dir.appendingPathComponent("features.yaml"))
            do { _ = try KnowledgePack(directory: dir); return nil } catch { return "\(error)" }
        }
        #expect(load("{id: x, name: X, kind: history, derive: response, treatment: metformin, of: hba1c}") == nil)
        #expect(load("{id: x, name: X, kind: history}")?.contains("needs derive") == true)
        #expect(load("{id: x, name: X, kind: history, derive: stopped}")?.contains("needs a treatment") == true)
        #expect(load("{id: x, name: X, kind: history, derive: response, treatment: metformin}")?.contains("needs `of`") == true)
        #expect(load("{id: x, name: X, kind: history, derive: response, treatment: metformin, of: nothing}")?.contains("no measured feature") == true)
    }
}
