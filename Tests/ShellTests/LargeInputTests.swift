import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct LargeInputTests {
    /// A 200 MB bundle imports in bounded memory: the process never holds the file.
    @Test func twoHundredMegabyteBundleInBoundedMemory() throws {
        let dir = TestSupport.temporaryDirectory("rounds-large")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("big.json").path
        let bytes = try TestSupport.writeLargeBundle(to: path, megabytes: 200, observations: 40_000)
        #expect(bytes >= 200_000_000)
        let rounds = RoundsProcess()
        let r = try rounds.run(["import", path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((report["used"] as? [String: Int])?["Observation"] == 40_000)
        #expect((report["skipped"] as? [String: Int])?["DocumentReference", default: 0] ?? 0 > 1000)
        // Peak resident memory of the import, far below the file's 200 MB.
        #expect(r.maxRSSKiB > 10_000 && r.maxRSSKiB < 160_000, "peak RSS \(r.maxRSSKiB) KiB")
    }
}
