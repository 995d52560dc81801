import Foundation
import Testing
@testable import TreatmentModel
import TestSupport

/// The optional train_min/train_max tensors: observed ranges, the file format, and the check.
@Suite struct TrainingRangeTests {
    static func tinyModel(features: Int = 3) -> ModelFile {
        let shape = ModelShape(features: features, embed: 2, hidden: 2, attention: 2, treatments: 2)
        let model = GRUAttention(shape: shape, seed: 7)
        return ModelFile(model: model, features: (0..<features).map { "f\($0)" }, treatments: ["a", "b"])
    }

    @Test func observedRangesIgnoreUnknownValues() {
        let r = TrainingRange.observed(rows: [[[1, .nan, 0], [3, .nan, 1]], [[-2, .nan, 0]]], columns: 3)
        #expect(r.min[0] == -2 && r.max[0] == 3 && r.min[2] == 0 && r.max[2] == 1)
        #expect(r.min[1].isNaN && r.max[1].isNaN)   // never observed
    }

    @Test func outsideNamesTheFurthestValuePerColumn() {
        let r = TrainingRange(min: [4, .nan, 0], max: [15, .nan, 1])
        let e = r.outside([[3, .nan, 1], [2.4, 7, 0], [16, .nan, 0.5]])
        #expect(e.count == 2)
        #expect(e[0] == .init(column: 0, value: 2.4, min: 4, max: 15))   // 1.6 below beats 1 above
        #expect(e[1] == .init(column: 1, value: 7, min: nil, max: nil))
        #expect(r.outside([[4, .nan, 1], [15, .nan, 0]]).isEmpty)        // the bounds are inside
    }

    @Test func rangesRoundTripAndWeightsStay() throws {
        var m = Self.tinyModel()
        let before = try m.encode()
        #expect(try ModelFile.decode(before).trainingRange == nil)   // optional: old files still load
        m.trainingRange = TrainingRange(min: [0, .nan, -1], max: [2, .nan, 5])
        let back = try ModelFile.decode(try m.encode())
        #expect(back.model.parameters == m.model.parameters)
        #expect(back.trainingRange?.min[0] == 0 && back.trainingRange?.max[2] == 5 && back.trainingRange?.min[1].isNaN == true)
        let tensors = try Safetensors.decode(try m.encode()).tensors
        #expect(tensors["train_min"]?.shape == [3] && tensors["train_max"]?.shape == [3])
    }

    @Test func brokenRangesAreRefused() throws {
        let m = Self.tinyModel()
        var file = try Safetensors.decode(try m.encode())
        file.tensors["train_min"] = ([3], [0, 0, 0])
        #expect(throws: ModelFileError.self) { try ModelFile.decode(try Safetensors.encode(file)) }   // one without the other
        file.tensors["train_max"] = ([3], [1, -1, 1])
        #expect(throws: ModelFileError.self) { try ModelFile.decode(try Safetensors.encode(file)) }   // min above max
        file.tensors["train_max"] = ([2], [1, 1])
        #expect(throws: ModelFileError.self) { try ModelFile.decode(try Safetensors.encode(file)) }   // wrong shape
    }

    /// The shipped model carries its training ranges, and they are plausible for the cohort.
    @Test func theShippedModelCarriesItsTrainingRanges() throws {
        let m = try ModelFile.load(path: TestSupport.knowledgeDirectory.appendingPathComponent("models/default.safetensors").path)
        let r = try #require(m.trainingRange)
        let j = try #require(m.features.firstIndex(of: "hba1c"))
        #expect(r.min[j] >= 4 && r.max[j] <= 20 && r.min[j] < r.max[j])
        let age = try #require(m.features.firstIndex(of: "age"))
        #expect(r.min[age] >= 18)
    }
}
