import ArgumentParser
import Foundation
import Patients
import Review
import Store
import TreatmentModel

extension ModelCommand {
/// `rounds model ranges [--file F] [--write]`: the raw range of each input column over the
/// training split of the cohort the model was trained on, and (with `--write`) the file with
/// those ranges added as `train_min`/`train_max`, its weights untouched.
///
/// `rounds train` writes the ranges itself; this is for model files made before it did (the
/// shipped default was stamped this way, so its SHA-256 changed and its weights did not).
struct Ranges: SessionCommand {
    static let configuration = CommandConfiguration(
        commandName: "ranges",
        abstract: "The range of each model input in the training data (train_min/train_max); --write adds it to the model file without changing its weights.",
        discussion: """
        The ranges come from the training split (patient-level 70/15/15 by the seed in the file's training_config) of the store's synthetic cohort, \
        which must be the cohort the model was trained on (its training_cohort fingerprint). Model views name every input of an imported patient outside these ranges.
        """)

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The model file (default: the knowledge pack's models/default.safetensors).", valueName: "file")) var file: String?
    @Flag(help: "Write the ranges into the file (atomically; the weights stay bit for bit).") var write = false
    @Flag(help: "Print as JSON.") var json = false

    struct Column: Encodable { var feature: String; var min: Float?; var max: Float? }

    func run(in session: Session) throws {
        let ctx = session.context
        let path = file ?? DefaultModel.path(session.pack)
        let loaded = try DefaultModel.load(path: path, pack: session.pack)
        let m = loaded.file
        struct Config: Decodable { var seed: UInt64 }
        guard let seed = m.extra["training_config"].flatMap({ try? JSONDecoder().decode(Config.self, from: Data($0.utf8)) })?.seed else {
            throw ValidationError("\(path) has no training_config with a seed: its training split cannot be recovered")
        }
        let data = try ModelData.load(ctx, seed: seed)
        guard let cohort = m.extra["training_cohort"], cohort == data.fingerprint else {
            throw ValidationError("the model was trained on cohort \(m.extra["training_cohort"]?.prefix(8) ?? "?"), but this store holds cohort \(data.fingerprint.prefix(8)): its ranges would describe other patients. `rounds cohort generate` makes the default cohort")
        }
        guard data.train.features == m.features else { throw ValidationError("the pack's feature columns differ from the model file's") }
        let range = TrainingRange.observed(rows: data.train.examples.lazy.map(\.rows), columns: m.features.count)
        let columns = m.features.indices.map { j in Column(feature: m.features[j], min: range.min[j].isNaN ? nil : range.min[j], max: range.max[j].isNaN ? nil : range.max[j]) }
        var written: String?
        if write {
            var stamped = m
            stamped.trainingRange = range
            let bytes = try stamped.encode()
            let check = try ModelFile.decode(bytes)
            guard check.model.parameters == m.model.parameters, check.model.standardization.mean == m.model.standardization.mean,
                  check.model.standardization.std == m.model.standardization.std, check.model.temperature == m.model.temperature,
                  check.extra == m.extra, check.trainingRange == range else {
                throw ValidationError("the stamped file would not hold the same weights: nothing written")
            }
            try AtomicFile.write(bytes, to: path)
            written = Digest.sha256(bytes)
            try ctx.audit(.modelTrained, action: "U", detail: ["out": path, "model_sha256": written!, "previous_sha256": loaded.sha256, "change": "training ranges added"])
        }
        if json {
            struct View: Encodable { var file: String; var cohort: String; var trainingSequences: Int; var columns: [Column]; var writtenSha256: String? }
            try session.out.json(View(file: path, cohort: data.fingerprint, trainingSequences: data.train.examples.count, columns: columns, writtenSha256: written))
            return
        }
        let out = session.out
        out.print(out.bold("Training ranges of \(loaded.label)") + " · \(data.train.examples.count) training sequences of synthetic cohort \(data.fingerprint.prefix(8))")
        let rows: [[String]] = columns.map { c in
            [c.feature, c.min.map { String(format: "%g", $0) } ?? "never observed", c.max.map { String(format: "%g", $0) } ?? ""]
        }
        out.print(Table(headers: ["FEATURE", "MIN", "MAX"], rows: rows, rightAligned: [1, 2]).render(width: out.width))
        if let w = written { out.print("Wrote the ranges into \(path) (weights unchanged); its SHA-256 is now \(w).") }
        else if m.trainingRange == range { out.print(out.dim("The file already holds these ranges.")) }
        else { out.print(out.dim("`--write` adds them to the file.")) }
    }
}
}
