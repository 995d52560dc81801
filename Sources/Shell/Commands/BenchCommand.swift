import ArgumentParser
import Cohort
import Explanations
import Foundation
import Guidelines
import Patients
import Review
import TreatmentModel

/// `rounds bench`: the model's speed, measured (not guessed). Run it from a release build.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the model's speed: single-patient forward latency and training throughput.",
        discussion: "Build with `swift build -c release` first; debug builds are many times slower. Inputs are random standardized sequences; the model has the shipped default model's architecture and sizes unless --architecture names another.")

    @Option(help: "Repetitions of each latency measurement.") var repetitions: Int = 300
    @Option(help: "Sequences in the training-throughput measurement.") var sequences: Int = 2048
    @Option(help: ArgumentHelp("Instead, measure the audit log: append this many entries to a new store, verify, export and verify the export.", valueName: "n"))
    var audit: Int?
    @Flag(help: "Instead, measure making a case report of a 40-visit patient (`rounds report`), whole.") var report = false
    @Option(help: ArgumentHelp("The build of the elementwise kernels to measure: baseline, avx2 or avx512 (default: the best this CPU has).", valueName: "build"))
    var kernels: String?
    @Option(help: ArgumentHelp("The architecture to measure: \(TreatmentNetwork.architectures.joined(separator: " or ")) (default: the shipped model's, at its sizes).", valueName: "name"))
    var architecture: String?
    @Option(help: "Hidden size of the recurrent networks (default: the shipped model's, or `rounds train`'s default).") var hidden: Int?
    @Flag(help: "Print as JSON.") var json = false

    struct Result: Codable {
        var architecture: String; var hidden: Int
        /// The sizes measured (so a peer can build the same model): features, embedding, the
        /// embedding's hidden layer (0: none), attention (gru-attention-v1 only), treatments.
        var features: Int; var embed: Int; var embedHidden: Int; var attention: Int; var treatments: Int
        var forwardMillisecondsT12: Double; var forwardMillisecondsT40: Double
        var explanationMillisecondsT12: Double; var explanationMillisecondsT40: Double
        var guidelineChecksMicroseconds: Double?
        var trainSequencesPerSecond1Thread: Double; var trainSequencesPerSecond2Threads: Double
        /// The elementwise kernels' build that ran ("avx512", "avx2" or "baseline").
        var kernels: String
    }

    func run() throws {
        if let n = audit {
            guard n > 0 else { throw ValidationError("--audit must be at least 1") }
            let r = try AuditBench.run(entries: n)
            if json { try Output().json(r) } else { r.print() }
            return
        }
        if report {
            let r = try ReportBench.run(repetitions: max(repetitions / 10, 5))
            if json { try Output().json(r) } else { r.print() }
            return
        }
        if let k = kernels {
            guard Kernels.variants.contains(k) else { throw ValidationError("--kernels takes one of \(Kernels.variants.joined(separator: ", "))") }
            guard Kernels.use(k) else { throw ValidationError("this CPU cannot run the \(k) kernels (it runs \(Kernels.variant))") }
        }
        // The shipped model's architecture and sizes, where the pack has it; else `rounds train`'s defaults.
        let pack = try? KnowledgePack(directory: KnowledgePack.locate())
        let shipped = pack.flatMap { try? ModelFile.load(path: DefaultModel.path($0)) }?.model
        let defaults = TrainingConfig()
        let architecture = self.architecture ?? shipped?.architecture ?? defaults.architecture
        guard TreatmentNetwork.architectures.contains(architecture) else { throw ValidationError("--architecture takes \(TreatmentNetwork.architectures.joined(separator: " or "))") }
        let reference = shipped?.architecture == architecture ? shipped : nil
        let hiddenSize = hidden ?? reference?.shape.hidden ?? defaults.hidden
        guard let features = reference?.shape.features ?? pack?.features.columns.count else {
            throw ValidationError("no knowledge pack found (its features.yaml gives the model's input width): set ROUNDS_KNOWLEDGE to the Knowledge folder")
        }
        let shape = ModelShape(features: features,
                               embed: reference?.shape.embed ?? defaults.embed, hidden: hiddenSize,
                               attention: reference?.shape.attention ?? defaults.attention, treatments: reference?.shape.treatments ?? 8)
        let embedHidden = architecture == RETAIN.mlpArchitecture ? (reference?.embedHidden ?? defaults.embedHidden) : 0
        let model = TreatmentNetwork(architecture: architecture, shape: shape, embedHidden: embedHidden, seed: 1)
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
        // A full explanation: probabilities, attention and integrated gradients at 50 steps.
        func explanation(_ T: Int) -> Double {
            let x = sequence(T)
            let ig = IntegratedGradients(model: model)
            return median((0..<max(repetitions / 10, 5)).map { _ in
                let t0 = DispatchTime.now().uptimeNanoseconds
                let pass = model.forward(SequenceBatch(sequences: [x], features: shape.features))
                _ = ig.attribute(x, target: Metrics.argmax(pass.probabilities(0)), steps: 50)
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            })
        }
        // All guideline rules for one demo patient.
        var guidelineMicroseconds: Double? = nil
        if let pack, let book = try? RuleBook(pack: pack) {
            let record = Cohort.CohortGenerator().patient(41).record
            let checker = GuidelineChecker(book: book)
            let facts = PatientFacts(record: record, pack: pack)
            guidelineMicroseconds = median((0..<max(repetitions, 1)).map { _ in
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = checker.check(facts)
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3
            })
        }
        let examples = (0..<max(sequences, 32)).map { i in
            Dataset.Example(patientID: "b\(i)", rows: (0..<(3 + i % 38)).map { _ in (0..<shape.features).map { _ in rng.uniform(-2, 2) } }, label: i % 8)
        }
        let data = Dataset(examples: examples, features: (0..<shape.features).map { "f\($0)" }, treatments: (0..<8).map { "t\($0)" })
        func throughput(_ threads: Int) -> Double {
            var c = TrainingConfig(); c.epochs = 1; c.threads = threads
            c.architecture = architecture; c.hidden = hiddenSize; c.embed = shape.embed; c.attention = shape.attention
            c.embedHidden = embedHidden
            return Trainer(config: c).train(train: data, validation: Dataset(examples: Array(examples.prefix(32)), features: data.features, treatments: data.treatments)).sequencesPerSecond
        }
        let r = Result(architecture: architecture, hidden: hiddenSize, features: shape.features, embed: shape.embed, embedHidden: embedHidden,
                       attention: shape.attention, treatments: shape.treatments, forwardMillisecondsT12: latency(12), forwardMillisecondsT40: latency(40),
                       explanationMillisecondsT12: explanation(12), explanationMillisecondsT40: explanation(40),
                       guidelineChecksMicroseconds: guidelineMicroseconds,
                       trainSequencesPerSecond1Thread: throughput(1), trainSequencesPerSecond2Threads: throughput(2),
                       kernels: Kernels.variant)
        if json { try Output().json(r); return }
        print("\(architecture): \(shape.features) features, " + (embedHidden > 0 ? "embedding hidden \(embedHidden), " : "") + "embed \(shape.embed), hidden \(hiddenSize)")
        print(String(format: "forward, one patient, 12 visits: %.3f ms (median of %d)", r.forwardMillisecondsT12, repetitions))
        print(String(format: "forward, one patient, 40 visits: %.3f ms (median of %d)", r.forwardMillisecondsT40, repetitions))
        print(String(format: "full explanation (probabilities, attention, IG 50 steps), 12 visits: %.2f ms; 40 visits: %.2f ms", r.explanationMillisecondsT12, r.explanationMillisecondsT40))
        if let g = r.guidelineChecksMicroseconds { print(String(format: "all guideline rules for one patient: %.1f µs (median)", g)) }
        print(String(format: "training, %d sequences of 3–40 visits, batch 32: %.0f sequences/s (1 thread), %.0f sequences/s (2 threads)",
                     examples.count, r.trainSequencesPerSecond1Thread, r.trainSequencesPerSecond2Threads))
        print("elementwise kernels: \(r.kernels) build")
    }
}
