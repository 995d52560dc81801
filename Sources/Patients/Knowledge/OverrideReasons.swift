import Foundation

/// The coded reasons a clinician may give for overriding the model (`override-reasons.yaml`),
/// with the reward each maps a decision to. The mapping is data, not code, so that the file
/// documents it where a reviewer looks.
public struct OverrideReasons: Sendable, Decodable {
    public struct Reason: Sendable, Decodable, Equatable {
        public var code: String
        public var display: String
        /// The code in `system` this reason maps onto.
        public var systemCode: String
        /// The reward an override with this reason gives the recommendation.
        public var reward: Double

        enum CodingKeys: String, CodingKey { case code, display, systemCode = "system_code", reward }
    }

    public var version: Int
    /// The reward of an accepted recommendation.
    public var acceptReward: Double
    /// The code system of `systemCode`.
    public var system: String
    public var reasons: [Reason]

    enum CodingKeys: String, CodingKey { case version, acceptReward = "accept_reward", system, reasons }

    public static let fileName = "override-reasons.yaml"

    public func reason(code: String) -> Reason? { reasons.first { $0.code == code } }
    public var codes: [String] { reasons.map(\.code) }

    /// Loads and checks the file: codes unique and non-empty, rewards in [-1, 1].
    public static func load(from directory: URL) throws -> OverrideReasons {
        let r: OverrideReasons = try KnowledgePack.decode(fileName, in: directory)
        var seen = Set<String>()
        for (i, reason) in r.reasons.enumerated() {
            let place = "reasons[\(i)]"
            if reason.code.isEmpty || reason.code.contains(where: \.isWhitespace) {
                throw KnowledgeError.invalid(file: fileName, path: place + ".code", message: "a code is one word, not '\(reason.code)'")
            }
            if !seen.insert(reason.code).inserted { throw KnowledgeError.invalid(file: fileName, path: place + ".code", message: "'\(reason.code)' appears twice") }
            if !(-1...1).contains(reason.reward) { throw KnowledgeError.invalid(file: fileName, path: place + ".reward", message: "rewards lie in [-1, 1], not \(reason.reward)") }
        }
        if !(-1...1).contains(r.acceptReward) { throw KnowledgeError.invalid(file: fileName, path: "accept_reward", message: "rewards lie in [-1, 1], not \(r.acceptReward)") }
        if r.reasons.isEmpty { throw KnowledgeError.invalid(file: fileName, path: "reasons", message: "lists no reasons") }
        return r
    }
}
