import ArgumentParser
import Foundation
import Patients
import Review
import Store
import TreatmentModel

/// `rounds model`: which model Rounds uses, the learned versions, and switching between them.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "The treatment model: show it, list the learned versions, choose which is in use.",
        subcommands: [Show.self, List.self, Use.self, Ranges.self],
        defaultSubcommand: Show.self)
}

extension ModelCommand {
/// `rounds model [show]`: what model Rounds uses, from its file and its model card.
struct Show: SessionCommand {
    static let needsPatients = false
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the treatment model in use (or --file): version, SHA-256, sizes, training and evaluation, and its model card's summary.")

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

    /// From the system shell, showing a model file opens no store.
    func run() throws {
        guard file != nil else { return try runInOwnSession() }
        do { try show(pack: KnowledgePack(directory: KnowledgePack.locate(explicit: global.knowledge)), out: Output(), inUse: nil) } catch let e as KnowledgeError { throw ValidationError(e.description) }
    }

    func run(in session: Session) throws { try show(pack: session.pack, out: session.out, inUse: file == nil ? try session.model() : nil) }

    func show(pack: KnowledgePack, out: Output, inUse: DefaultModel.Loaded?) throws {
        let path = file ?? DefaultModel.path(pack)
        let loaded = try inUse ?? DefaultModel.load(path: path, pack: pack)
        let cardPath = (path as NSString).deletingPathExtension + ".md"
        let card = try? String(contentsOfFile: cardPath, encoding: .utf8)
        let m = loaded.file
        let summary = Summary(path: path, sha256: loaded.sha256, version: m.extra["version"], architecture: m.model.architecture, shape: m.model.shape,
                              features: m.features, treatments: m.treatments, trainingConfig: m.extra["training_config"],
                              trainingCohort: m.extra["training_cohort"], testMetrics: m.extra["test_metrics"], data: m.extra["data"], card: card.map(DefaultModel.cardSummary))
        if json { try out.json(summary); return }
        out.print(out.bold("Treatment model \(loaded.label)"))
        out.print("file      \(loaded.path)")
        out.print("sha256    \(loaded.sha256)")
        let s = m.model.shape
        switch m.model {
        case .gruAttention:
            out.print("model     \(m.model.architecture): \(s.features) features → embed \(s.embed) → GRU \(s.hidden) → attention \(s.attention) → \(s.treatments) treatments")
        case .retain(let r):
            let embedding = r.embedHidden > 0 ? "hidden \(r.embedHidden) (ReLU) → embed \(s.embed)" : "embed \(s.embed)"
            out.print("model     \(m.model.architecture) (RETAIN): \(s.features) features → \(embedding) → two reverse-time GRUs \(s.hidden) (visit and variable attention) → \(s.treatments) treatments, temperature \(String(format: "%.3f", m.model.temperature))")
        }
        if let d = summary.data { out.print("trained   on \(d), cohort \(summary.trainingCohort ?? "?")") }
        if let metrics = summary.testMetrics, let scores = try? JSONDecoder().decode(Evaluation.Scores.self, from: Data(metrics.utf8)) {
            out.print(String(format: "test      accuracy %.3f · macro F1 %.3f (%.3f–%.3f) · macro AUC %.3f · ECE %.3f",
                             scores.accuracy.value, scores.macroF1.value, scores.macroF1.low, scores.macroF1.high, scores.macroAUC.value, scores.expectedCalibrationError.value))
        }
        if loaded.storeVersion != nil, let lineage = m.extra["lineage"] { out.print("lineage   \(lineage)") }
        if let c = summary.card { out.print(""); out.print(c) } else if loaded.storeVersion == nil { out.print(out.dim("(no model card at \(cardPath))")) }
        out.print(out.dim("Decision support only: the model never replaces the clinician's judgement."))
    }
}

/// `model list`: the pack's default and every learned version, the one in use marked.
struct List: SessionCommand {
    static let needsPatients = false
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The default model and the versions learned from decisions, the one in use marked.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print as JSON.") var json = false

    func run(in session: Session) throws {
        let versions = try session.store.modelVersions()
        if json { try session.out.json(versions); return }
        let out = session.out
        let def = try DefaultModel.load(path: DefaultModel.path(session.pack), pack: session.pack)
        var rows = [[versions.contains { $0.active } ? " " : "*", "default", String(def.sha256.prefix(12)), "", def.file.extra["version"] ?? "", "the knowledge pack's model"]]
        for v in versions {
            let lineage = (try? JSONSerialization.jsonObject(with: Data(v.lineage.utf8))) as? [String: Any]
            let summary = lineage?["summary"] as? String ?? ""
            rows.append([v.active ? "*" : " ", String(v.version), String(v.sha256.prefix(12)), String(v.parentSha256.prefix(12)), String(v.createdAt.prefix(16)), summary])
        }
        out.print(Table(headers: ["", "version", "sha256", "parent", "created (UTC)", "what"], rows: rows).render(width: out.width))
        out.print(out.dim("* in use. `model use VERSION` (or `model use default`) switches, and is audited."))
    }
}

/// `model use VERSION|default`: activates a version, or goes back to the default (a rollback).
struct Use: SessionCommand {
    static let needsPatients = false
    static let configuration = CommandConfiguration(commandName: "use", abstract: "Put a learned model version in use, or `default` for the knowledge pack's model (audited).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("A version number from `model list`, or `default`.", valueName: "version")) var version: String

    func run(in session: Session) throws {
        let v: Int?
        if version == "default" { v = nil } else {
            guard let n = Int(version), n > 0 else { throw ValidationError("'\(version)' is not a version: give a number from `model list`, or `default`") }
            v = n
        }
        do { try session.store.activateModel(v, audit: session.context.entry(.modelActivated, action: "U")) } catch let e as StoreError { throw ValidationError(e.description) }
        session.modelChanged()
        let m = try session.model()
        session.out.print("In use: \(m.label), sha256 \(m.sha256.prefix(12)). Decisions from now on record it.")
    }
}
}
