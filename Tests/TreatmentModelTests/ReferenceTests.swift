import Foundation
import Testing
@testable import TreatmentModel
import TestSupport

/// The contract's reference outputs, computed with PyTorch and Captum (`../shared/spec/reference`).
@Suite struct ReferenceTests {
    static let reference = TestSupport.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/spec/reference")

    func load(_ name: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.reference.appendingPathComponent(name))) as? [String: Any])
    }

    @Test(arguments: [("model.safetensors", "explanation.json"), ("model_sharp.safetensors", "explanation_sharp.json")])
    func forwardMatchesPyTorch(model: String, explanation: String) throws {
        let file = try ModelFile.load(path: Self.reference.appendingPathComponent(model).path)
        #expect(file.model.shape == ModelShape(features: 40, embed: 32, hidden: 64, attention: 32, treatments: 8))
        let e = try load(explanation)
        let input = (e["input"] as! [[Double]]).map { $0.map(Float.init) }
        let pass = file.model.forward(SequenceBatch(sequences: [input.flatMap { $0 }], features: 40))
        let probs = (e["probabilities"] as! [Double]).map(Float.init)
        let attention = (e["attention"] as! [Double]).map(Float.init)
        let dp = zip(pass.probabilities(0), probs).map { abs($0 - $1) }.max()!
        let da = zip(pass.attentionWeights(0), attention).map { abs($0 - $1) }.max()!
        #expect(dp < 2e-6, "probabilities differ by \(dp)")
        #expect(da < 2e-6, "attention differs by \(da)")
    }

    @Test func modelFilesRoundTripByteForByte() throws {
        for name in ["model.safetensors", "model_sharp.safetensors"] {
            let url = Self.reference.appendingPathComponent(name)
            let file = try ModelFile.load(path: url.path)
            let again = try ModelFile.decode(file.encode())
            #expect(again.model.parameters == file.model.parameters)
            #expect(again.features == file.features && again.treatments == file.treatments)
            #expect(try again.encode() == file.encode())
        }
    }
}
