import ArgumentParser
import Foundation
import Patients
import Store
import Cohort
import TreatmentModel

/// `rounds train`: trains the treatment model on the store's synthetic cohort.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the treatment model (RETAIN by default) on the store's (synthetic) cohort.",
        discussion: """
        Patient-level split 70/15/15 (fixed seed), Adam, early stopping on validation loss,
        gradient clipping; soft targets from the simulated utilities where the cohort keeps them;
        the temperature fitted on the validation split (retain-v1). Ctrl-C stops training and writes nothing; the model file is written
        whole or not at all. Same seed, data, settings and threads: the same file, byte for byte.
        """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Where to write the model.", valueName: "file"))
    var out: String = "rounds-model.safetensors"

    @Option(help: ArgumentHelp("The architecture: \(TreatmentNetwork.architectures.joined(separator: " or ")).", valueName: "name"))
    var architecture: String = TrainingConfig().architecture
    @Option(help: "Soft targets softmax(utility / this) where utilities are known; 0 trains on the best option alone.")
    var utilityTemperature: Float = TrainingConfig().utilityTemperature
    @Option(help: "Maximum epochs.") var epochs: Int = TrainingConfig().epochs
    @Option(help: "Sequences per batch.") var batchSize: Int = TrainingConfig().batchSize
    @Option(name: .customLong("lr"), help: "Adam learning rate.") var learningRate: Float = TrainingConfig().learningRate
    @Option(help: "Epochs without improvement before stopping.") var patience: Int = TrainingConfig().patience
    @Option(help: "Random seed (split, initialisation, shuffling).") var seed: UInt64 = TrainingConfig().seed
    @Option(help: "Embedding size.") var embed: Int = TrainingConfig().embed
    @Option(help: "GRU hidden size.") var hidden: Int = TrainingConfig().hidden
    @Option(name: .customLong("embed-hidden"), help: "Width of retain-mlp-v1's hidden embedding layer.") var embedHidden: Int = TrainingConfig().embedHidden
    @Option(help: "Attention size.") var attention: Int = TrainingConfig().attention
    @Option(help: "Threads: each batch is split across them (1, the default, gives the shipped model's bytes).") var threads: Int = TrainingConfig().threads
    @Option(help: "Decoupled weight decay (AdamW); 0 for plain Adam.") var weightDecay: Float = TrainingConfig().weightDecay
    @Option(help: "Weight of the index visits' examples against 1 for the earlier decision points.") var indexWeight: Float = TrainingConfig().indexWeight
    @Option(help: "Multiply the learning rate by this after each epoch (1: constant).") var lrDecay: Float = TrainingConfig().learningRateDecay
    @Option(help: "Keep an exponential moving average of the weights with this decay per step and use it (0: none).") var averaging: Float = TrainingConfig().averaging
    @Option(help: "Class weights (N/(K·n_k))^x in the loss: 0 none, 1 fully balanced.") var classBalance: Float = TrainingConfig().classBalance
    @Flag(help: "Train on the index visits only, not on every decision point of each history.") var indexOnly = false
    @Flag(help: "Calibrate with the temperature alone, without a bias per option.") var noClassBias = false

    func validate() throws {
        guard epochs >= 1, batchSize >= 1, learningRate > 0, patience >= 1, embed >= 1, hidden >= 1, embedHidden >= 1, attention >= 1, threads >= 1 else {
            throw ValidationError("epochs, batch size, learning rate, patience, sizes and threads must be positive")
        }
        guard TreatmentNetwork.architectures.contains(architecture) else {
            throw ValidationError("--architecture takes \(TreatmentNetwork.architectures.joined(separator: " or ")), not '\(architecture)'")
        }
        guard utilityTemperature >= 0 else { throw ValidationError("--utility-temperature must be 0 or positive") }
    }

    var config: TrainingConfig {
        var c = TrainingConfig()
        c.epochs = epochs; c.batchSize = batchSize; c.learningRate = learningRate; c.patience = patience; c.seed = seed
        c.architecture = architecture; c.utilityTemperature = utilityTemperature
        c.embed = embed; c.hidden = hidden; c.embedHidden = embedHidden; c.attention = attention; c.threads = threads; c.weightDecay = weightDecay; c.learningRateDecay = lrDecay; c.indexWeight = indexWeight; c.averaging = averaging; c.classBalance = classBalance
        c.classBiasCalibration = !noClassBias
        return c
    }

    func run() throws {
        let ctx = try Context(global)
        defer { try? ctx.store.writeCheckpoint(reason: "session.end") }
        let data = try ModelData.load(ctx, seed: seed, indexOnly: indexOnly)
        let trainPatients = Set(data.train.examples.map(\.patientID)).count
        ctx.out.note("Training on \(trainPatients) patients (\(data.train.examples.count) \(data.decisionPoints ? "decision points" : "index visits")), validating on \(data.validation.examples.count), testing on \(data.test.examples.count) (synthetic cohort).")
        Interrupt.install()
        defer { Interrupt.restore() }
        let progress = ProgressLine(total: epochs)
        let result = Trainer(config: config).train(train: data.train, validation: data.validation, report: { progress.update($0) }, shouldStop: { Interrupt.requested })
        progress.finish()
        if result.interrupted {
            ctx.out.print("Interrupted: no model written.")
            throw ExitCode(130)
        }
        let test = Evaluation.score(name: result.model.name, probabilities: Trainer.predict(result.model, data.test),
                                    labels: data.test.labels, treatments: data.test.treatments, resamples: 1000)
        let meta: [String: String] = [
            "version": "rounds-\(data.fingerprint.prefix(8))-s\(seed)",
            "training_config": try String(decoding: JSONEncoder.sorted.encode(config), as: UTF8.self),
            "training_cohort": data.fingerprint,
            "split": "patient-level 70/15/15, seed \(seed)",
            "training_examples": data.decisionPoints ? "every decision point of the training patients' histories" : "index visits",
            "best_epoch": "\(result.bestEpoch)",
            "temperature_fit": result.model.hasTemperature ? "validation split, negative log-likelihood" : "none (gru-attention-v1)",
            "test_metrics": try String(decoding: JSONEncoder.sorted.encode(test.scores), as: UTF8.self),
            "data": "synthetic demo cohort (not real patients)",
        ]
        let range = TrainingRange.observed(rows: data.train.examples.lazy.map(\.rows), columns: data.train.features.count)
        let file = ModelFile(model: result.model, features: data.train.features, treatments: data.train.treatments, extra: meta, trainingRange: range)
        let bytes = try file.encode()
        try AtomicFile.write(bytes, to: out)
        try ctx.audit(.modelTrained, action: "C", detail: ["out": out, "model_sha256": Digest.sha256(bytes), "best_epoch": String(result.bestEpoch)])
        ctx.out.print(String(format: "Wrote %@ (%@; best epoch %d of %d; %.0f sequences/s%@).", out, result.model.architecture, result.bestEpoch, result.history.count,
                             result.sequencesPerSecond, result.model.hasTemperature ? String(format: "; temperature %.3f", result.model.temperature) : ""))
        ctx.out.print(String(format: "Test split: accuracy %.3f, macro F1 %.3f, AUC %.3f, ECE %.3f. `rounds evaluate --model %@` compares with the baselines.",
                             test.scores.accuracy.value, test.scores.macroF1.value, test.scores.macroAUC.value, test.scores.expectedCalibrationError.value, out))
    }
}

/// The store's labelled cohort, split as training splits it: patients split 70/15/15; the
/// training part learns from every decision point of each history (when the cohort keeps the
/// best option at each visit), validation and test score the index visits only.
struct ModelData {
    var train: Dataset, validation: Dataset, test: Dataset
    var fingerprint: String
    var decisionPoints: Bool

    static func load(_ ctx: Context, seed: UInt64, indexOnly: Bool = false) throws -> ModelData {
        let labelled = try ctx.store.labelledPatients()
        guard labelled.count >= 20 else { throw ValidationError("the store holds \(labelled.count) labelled synthetic patients; `rounds cohort generate` makes a cohort to train on") }
        let extractor = FeatureExtractor(pack: ctx.pack)
        // The index visit's utilities, in the pack's order (the store keeps the simulator's).
        var utilities: [String: [Float]] = [:]
        for p in labelled where !p.utilities.isEmpty {
            let u = ctx.pack.treatments.ids.map { Float(ResponseSimulatorIndex.utility(of: $0, in: p.utilities)) }
            if u.allSatisfy(\.isFinite) { utilities[p.record.id] = u }
        }
        let all = try Dataset(records: labelled.map { ($0.record, $0.label) }, extractor: extractor, utilities: utilities)
        var (train, validation, test) = all.split(seed: seed)
        let useDecisionPoints = !indexOnly && labelled.allSatisfy { $0.visitLabels.count == $0.record.visits.count }
        if useDecisionPoints {
            let trainIDs = Set(train.examples.map(\.patientID))
            let trainPatients = labelled.filter { trainIDs.contains($0.record.id) }
            // Every visit's utilities where the cohort keeps them (the pack's order).
            let order = ctx.pack.treatments.ids.map { id in ResponseSimulator.treatments.firstIndex(of: id) }
            var visitUtilities: [String: [[Float]]] = [:]
            for p in trainPatients where !p.visitUtilities.isEmpty {
                let rows = (0..<p.record.visits.count).compactMap { k in p.utilities(atVisit: k) }
                guard rows.count == p.record.visits.count, !order.contains(nil) else { continue }
                let mapped = rows.map { u in order.map { i in i! < u.count ? u[i!] : .nan } }
                if mapped.allSatisfy({ $0.allSatisfy(\.isFinite) }) { visitUtilities[p.record.id] = mapped }
            }
            train = try Dataset(decisionPoints: trainPatients.map { ($0.record, $0.visitLabels) }, extractor: extractor,
                                utilities: utilities, visitUtilities: visitUtilities)
        }
        return ModelData(train: train, validation: validation, test: test, fingerprint: all.fingerprint(), decisionPoints: useDecisionPoints)
    }
}

/// Writes a file whole or not at all: to a temporary name beside it, then renamed over it.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        try data.write(to: tmp)
        if rename(tmp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw ValidationError("cannot write \(path): \(reason)")
        }
    }
}

/// One status line on standard error, rewritten each epoch (only on a terminal; otherwise a line per epoch).
final class ProgressLine {
    let total: Int
    let tty = isatty(STDERR_FILENO) == 1
    var seconds: [Double] = []
    init(total: Int) { self.total = total }

    func update(_ r: EpochReport) {
        seconds.append(r.seconds)
        let width = 20, done = min(width, r.epoch * width / max(total, 1))
        let bar = String(repeating: "█", count: done) + String(repeating: "░", count: width - done)
        let left = Double(total - r.epoch) * (seconds.reduce(0, +) / Double(seconds.count))
        let line = String(format: "epoch %3d/%d %@ loss %.4f · val loss %.4f acc %.3f F1 %.3f%@ · %.1f s/epoch · at most %@ left",
                          r.epoch, total, bar, r.trainLoss, r.validationLoss, r.validationAccuracy, r.validationMacroF1, r.best ? " *" : "  ",
                          r.seconds, Self.duration(left))
        FileHandle.standardError.write(Data((tty ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func finish() { if tty { FileHandle.standardError.write(Data("\n".utf8)) } }

    static func duration(_ s: Double) -> String { s < 90 ? String(format: "%.0f s", s) : String(format: "%.0f min", s / 60) }
}

extension JSONEncoder {
    static var sorted: JSONEncoder { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]; return e }
}
