import Foundation
import Yams

/// The knowledge pack: the files under `Knowledge/` that say what the model sees and what it
/// recommends among. Loaded once at start; everything that maps codes goes through it.
public struct KnowledgePack: Sendable {
    public let directory: URL
    public let features: FeatureCatalog
    public let treatments: TreatmentCatalog
    /// Conditions, labs and drug classes shown and given to the rules, never model inputs (`context.yaml`).
    public let context: ContextCatalog
    /// Who the model may judge (`population.yaml`; anyone when the pack has none).
    public let population: Population

    /// Loads and cross-checks the pack in `directory`.
    public init(directory: URL) throws {
        self.directory = directory
        struct FeatureFile: Decodable { var version: Int; var features: [FeatureDefinition] }
        struct TreatmentFile: Decodable { var version: Int; var treatments: [TreatmentOption] }
        let featureFile: FeatureFile = try Self.decode("features.yaml", in: directory)
        let treatmentFile: TreatmentFile = try Self.decode("treatments.yaml", in: directory)
        features = try FeatureCatalog(definitions: featureFile.features)
        treatments = try TreatmentCatalog(options: treatmentFile.treatments)
        context = try ContextCatalog.load(from: directory)
        population = try Population.load(from: directory)
        for id in population.excludes + (population.diagnosis.map { [$0] } ?? [])
        where context.condition(id: id) == nil && features.definition(id: id)?.kind != .condition {
            throw KnowledgeError.invalid(file: "population.yaml", path: "population", message: "'\(id)' is no condition of context.yaml or features.yaml")
        }
        if let d = population.derived, features.definition(id: d.feature)?.kind != .lab {
            throw KnowledgeError.invalid(file: "population.yaml", path: "population.diagnosis.derived", message: "'\(d.feature)' is no lab of features.yaml")
        }
        for (i, d) in features.definitions.enumerated() {
            if let t = d.treatment, treatments.option(id: t) == nil {
                throw KnowledgeError.invalid(file: "features.yaml", path: "features[\(i)].treatment", message: "feature '\(d.id)' names treatment '\(t)', which treatments.yaml does not define")
            }
            if let of = d.of, features.definition(id: of)?.kind != .lab && features.definition(id: of)?.kind != .vital {
                throw KnowledgeError.invalid(file: "features.yaml", path: "features[\(i)].of", message: "feature '\(d.id)' reads the change of '\(of)', which is no measured feature")
            }
            if let from = d.derived?.from, features.definition(id: from)?.kind != .lab && features.definition(id: from)?.kind != .vital {
                throw KnowledgeError.invalid(file: "features.yaml", path: "features[\(i)].derived", message: "feature '\(d.id)' is derived from '\(from)', which is no measured feature")
            }
        }
    }

    /// Where the pack is: `--knowledge`/`ROUNDS_KNOWLEDGE` if given, else the `Knowledge`
    /// folder of the source tree the executable was built in, else one above the working directory.
    public static func locate(explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let path = explicit ?? environment["ROUNDS_KNOWLEDGE"] {
            let url = URL(fileURLWithPath: path)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("features.yaml").path) else {
                throw KnowledgeError.notFound("no features.yaml in \(path)")
            }
            return url
        }
        var starts: [URL] = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        starts.append(exe.deletingLastPathComponent())
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent("Knowledge")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("features.yaml").path) { return candidate }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        throw KnowledgeError.notFound("could not find the Knowledge folder: run from the Rounds checkout or set ROUNDS_KNOWLEDGE")
    }

    static func decode<T: Decodable>(_ name: String, in directory: URL) throws -> T {
        let url = directory.appendingPathComponent(name)
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw KnowledgeError.notFound("cannot read \(url.path): \(error.localizedDescription)")
        }
        do {
            return try YAMLDecoder().decode(T.self, from: text)
        } catch let error as DecodingError {
            throw KnowledgeError.from(error, file: name)
        } catch {
            throw KnowledgeError.invalid(file: name, path: "", message: "\(error)")
        }
    }
}

/// A knowledge pack that cannot be used, with the file and the place in it.
public enum KnowledgeError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case invalid(file: String, path: String, message: String)

    public var description: String {
        switch self {
        case .notFound(let m): return m
        case .invalid(let file, let path, let message):
            return path.isEmpty ? "Knowledge/\(file): \(message)" : "Knowledge/\(file): \(path): \(message)"
        }
    }

    static func from(_ error: DecodingError, file: String) -> KnowledgeError {
        func render(_ path: [CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            return .invalid(file: file, path: render(ctx.codingPath), message: "missing '\(key.stringValue)'")
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
            return .invalid(file: file, path: render(ctx.codingPath), message: ctx.debugDescription)
        case .dataCorrupted(let ctx):
            return .invalid(file: file, path: render(ctx.codingPath), message: ctx.debugDescription)
        @unknown default:
            return .invalid(file: file, path: "", message: "\(error)")
        }
    }
}
