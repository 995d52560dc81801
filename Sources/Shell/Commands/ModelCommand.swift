import ArgumentParser
import Crypto
import Foundation
import Patients
import TreatmentModel

/// `rounds model`: what model Rounds uses, from its file and its model card.
struct ModelCommand: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Show the treatment model: version, SHA-256, sizes, training and evaluation, and its model card's summary.")

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("A model file (default: the knowledge pack's models/default.safetensors).", valueName: "file"))
    var file: String?

    @Flag(help: "Print as JSON.")
    var json = false

    struct Summary: Codable {
        var path: String
        var sha256: String
        var version: String?
        var architecture: String
        var shape: ModelShape
        var features: [String]
        var treatments: [String]
        var trainingConfig: String?
        var trainingCohort: String?
        var testMetrics: String?
        var data: String?
        var card: String?
    }

    /// From the system shell, showing the model opens no store.
    func run() throws {
        do { try show(pack: KnowledgePack(directory: KnowledgePack.locate(explicit: global.knowledge)), out: Output()) } catch let e as KnowledgeError { throw ValidationError(e.description) }
    }

    func run(in session: Session) throws { try show(pack: session.pack, out: session.out) }

    func show(pack: KnowledgePack, out: Output) throws {
        let path = file ?? DefaultModel.path(pack)
        let loaded = try DefaultModel.load(path: path, pack: pack)
        let cardPath = (path as NSString).deletingPathExtension + ".md"
        let card = try? String(contentsOfFile: cardPath, encoding: .utf8)
        let m = loaded.file
        let summary = Summary(path: path, sha256: loaded.sha256, version: m.extra["version"], architecture: ModelFile.architecture, shape: m.model.shape,
                              features: m.features, treatments: m.treatments, trainingConfig: m.extra["training_config"],
                              trainingCohort: m.extra["training_cohort"], testMetrics: m.extra["test_metrics"], data: m.extra["data"], card: card.map(DefaultModel.cardSummary))
        if json { try out.json(summary); return }
        out.print(out.bold("Treatment model \(summary.version ?? "(unversioned)")"))
        out.print("file      \(path)")
        out.print("sha256    \(loaded.sha256)")
        let s = m.model.shape
        out.print("model     \(ModelFile.architecture): \(s.features) features → embed \(s.embed) → GRU \(s.hidden) → attention \(s.attention) → \(s.treatments) treatments")
        if let d = summary.data { out.print("trained   on \(d), cohort \(summary.trainingCohort ?? "?")") }
        if let metrics = summary.testMetrics, let scores = try? JSONDecoder().decode(Evaluation.Scores.self, from: Data(metrics.utf8)) {
            out.print(String(format: "test      accuracy %.3f · macro F1 %.3f (%.3f–%.3f) · macro AUC %.3f · ECE %.3f",
                             scores.accuracy.value, scores.macroF1.value, scores.macroF1.low, scores.macroF1.high, scores.macroAUC.value, scores.expectedCalibrationError.value))
        }
        if let c = summary.card { out.print(""); out.print(c) } else { out.print(out.dim("(no model card at \(cardPath))")) }
        out.print(out.dim("Decision support only: the model never replaces the clinician's judgement."))
    }
}

/// The model Rounds uses by default: `Knowledge/models/default.safetensors`.
enum DefaultModel {
    struct Loaded { var file: ModelFile; var sha256: String; var path: String }

    static func path(_ pack: KnowledgePack) -> String { pack.directory.appendingPathComponent("models/default.safetensors").path }

    /// Loads and checks a model file against the pack, with the file's SHA-256.
    static func load(path: String, pack: KnowledgePack) throws -> Loaded {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ValidationError("cannot read the model file \(path): \(error.localizedDescription)")
        }
        let file: ModelFile
        do { file = try ModelFile.decode(data) } catch let e as ModelFileError { throw ValidationError("\(path): \(e.description)") }
        try ModelCompatibility.check(file, pack: pack)
        return Loaded(file: file, sha256: SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined(), path: path)
    }

    /// The card's summary: its text up to the first second-level heading.
    static func cardSummary(_ card: String) -> String {
        var lines: [String] = []
        for line in card.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { break }
            lines.append(String(line))
        }
        return lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
