import ArgumentParser
import Foundation
import TreatmentModel

/// `rounds bench`: the model's speed, measured (not guessed). Run it from a release build.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the model's speed: single-patient forward latency and training throughput.",
        discussion: "Build with `swift build -c release` first; debug builds are many times slower. Inputs are random standardized sequences of the default model's size.")

    @Option(help: "Repetitions of each latency measurement.") var repetitions: Int = 300
    @Option(help: "Sequences in the training-throughput measurement.") var sequences: Int = 2048
    @Flag(help: "Print as JSON.") var json = false

    struct Result: Codable { var forwardMillisecondsT12: Double; var forwardMillisecondsT40: Double; var trainSequencesPerSecond1Thread: Double; var trainSequencesPerSecond2Threads: Double }

    func run() throws {
        let shape = ModelShape(features: 42, embed: 32, hidden: 64, attention: 32, treatments: 8)
        let model = GRUAttention(shape: shape, seed: 1)
        var rng = ModelRandom(seed: 5)
        func sequence(_ T: Int) -> [Float] { (0..<(T * shape.features)).map { _ in rng.uniform(-2, 2) } }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        func latency(_ T: Int) -> Double {
            let batch = SequenceBatch(sequences: [sequence(T)], features: shape.features)
            _ = model.forward(batch)
            return median((0..<max(repetitions, 1)).map { _ in
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = model.forward(batch)
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            })
        }
        let examples = (0..<max(sequences, 32)).map { i in
            Dataset.Example(patientID: "b\(i)", rows: (0..<(3 + i % 38)).map { _ in (0..<shape.features).map { _ in rng.uniform(-2, 2) } }, label: i % 8)
        }
        let data = Dataset(examples: examples, features: (0..<shape.features).map { "f\($0)" }, treatments: (0..<8).map { "t\($0)" })
        func throughput(_ threads: Int) -> Double {
            var c = TrainingConfig(); c.epochs = 1; c.threads = threads
            return Trainer(config: c).train(train: data, validation: Dataset(examples: Array(examples.prefix(32)), features: data.features, treatments: data.treatments)).sequencesPerSecond
        }
        let r = Result(forwardMillisecondsT12: latency(12), forwardMillisecondsT40: latency(40),
                       trainSequencesPerSecond1Thread: throughput(1), trainSequencesPerSecond2Threads: throughput(2))
        if json { try Output().json(r); return }
        print(String(format: "forward, one patient, 12 visits: %.3f ms (median of %d)", r.forwardMillisecondsT12, repetitions))
        print(String(format: "forward, one patient, 40 visits: %.3f ms (median of %d)", r.forwardMillisecondsT40, repetitions))
        print(String(format: "training, %d sequences of 3–40 visits, batch 32: %.0f sequences/s (1 thread), %.0f sequences/s (2 threads)",
                     examples.count, r.trainSequencesPerSecond1Thread, r.trainSequencesPerSecond2Threads))
    }
}
