import Foundation
import Patients
import Store
import TreatmentModel

/// The model Rounds uses by default: `Knowledge/models/default.safetensors`.
public enum DefaultModel {
    public struct Loaded {
        public var file: ModelFile; public var sha256: String; public var path: String
        /// Where the model's features are among the pack's columns, when the pack has more (nil: the same).
        public var columns: [Int]? = nil
        /// The pack's feature rows as this model reads them.
        public func rows(_ packRows: [[Float]]) -> [[Float]] { columns.map { Dataset.project(packRows, $0) } ?? packRows }
        /// The store's version number when the model is a learned version in use.
        public var storeVersion: Int?
        /// What decisions record as the model version.
        public var label: String { storeVersion.map { "store v\($0) (\(file.extra["version"] ?? "learned"))" } ?? (file.extra["version"] ?? "unversioned") }
    }

    public static func path(_ pack: KnowledgePack) -> String { pack.directory.appendingPathComponent("models/default.safetensors").path }

    /// Loads and checks a model file against the pack, with the file's SHA-256.
    public static func load(path: String, pack: KnowledgePack) throws -> Loaded {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ReviewError("cannot read the model file \(path): \(error.localizedDescription)")
        }
        return try load(data: data, path: path, pack: pack)
    }

    /// The model in use: the store's active learned version if there is one, else the pack's default.
    public static func inUse(store: RoundsStore, pack: KnowledgePack) throws -> Loaded {
        guard let (version, data) = try store.activeModel() else { return try load(path: path(pack), pack: pack) }
        var m = try load(data: data, path: "store version \(version.version)", pack: pack)
        m.storeVersion = version.version
        return m
    }

    public static func load(data: Data, path: String, pack: KnowledgePack) throws -> Loaded {
        let file: ModelFile
        do { file = try ModelFile.decode(data) } catch let e as ModelFileError { throw ReviewError("\(path): \(e.description)") }
        let columns = try ModelCompatibility.check(file, pack: pack)
        return Loaded(file: file, sha256: Digest.sha256(data), path: path, columns: columns)
    }

    /// The card's summary: its text up to the first second-level heading.
    public static func cardSummary(_ card: String) -> String {
        var lines: [String] = []
        for line in card.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { break }
            lines.append(String(line))
        }
        return lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
