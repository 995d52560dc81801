import Foundation

/// A clinician's decision on the model's recommendation for one patient at one visit: what was
/// shown, what was chosen, and why. It is the reward signal that learning feeds on, so it holds
/// everything needed to weigh it later: the exact model input (the distribution can be
/// recomputed bit for bit), the whole distribution, the order it was shown in and the display
/// policy. Its fields map onto the CDS Hooks Feedback API (see `CDSHooksFeedback`).
public struct DecisionRecord: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable { case accepted, overridden }

    /// A UUID, also the CDS Hooks card's uuid.
    public var id: String
    /// RFC 3339 UTC with milliseconds; set when the decision is committed.
    public var recordedAt: String
    public var clinician: String
    public var role: String?
    public var sessionId: String
    public var patient: String
    /// The visit under review (1-based) and its date.
    public var visit: Int
    public var visitDate: String
    /// The treatment model: version tag, file SHA-256 and, when it came from the store, its version number.
    public var modelVersion: String?
    public var modelSha256: String
    /// SHA-256 of the knowledge pack's rule, feature, treatment and reason files.
    public var knowledgeSha256: String
    /// The standardized input the model saw, visit-major (`visits × features` values).
    public var input: ModelInput
    /// Treatment ids in the model's output order, and the model's probability of each.
    public var treatments: [String]
    public var probabilities: [Float]
    /// The treatment ids in the order the screen listed them (most probable first).
    public var displayedOrder: [String]
    /// How the recommendation shown was picked from the distribution: `argmax` (deterministic,
    /// so the shown action had display probability 1).
    public var displayPolicy: String
    /// Each treatment's guideline status: its worst finding (`contraindicated`, `caution`,
    /// `recheck`, `indicated`, `neutral`), the meaning it has had since the first record; and the
    /// rules that fired.
    public var guidelineStatuses: [String: String]
    public var firedRules: [String]
    /// Each treatment's standing as the screen showed it: the strongest indication beside the
    /// strongest caution or contraindication, whether it was taken, and any deintensification.
    /// Added after the first records: absent (nil) in those, which keep their hashes.
    public var guidelineStandings: [String: ShownStanding]?

    /// An option's guideline standing as shown (rule ids, so a reader can look each one up).
    public struct ShownStanding: Codable, Sendable, Equatable {
        public var taking: Bool
        /// The strongest indication's rule, when one fired.
        public var indication: String?
        /// The reason against, `contraindicated`, `caution` or `recheck`, and its rule.
        public var against: String?
        public var againstRule: String?
        /// The deintensification rule that fired for a drug being taken.
        public var deintensify: String?
        /// The words shown, e.g. "indicated · caution".
        public var label: String
        public init(taking: Bool, indication: String?, against: String?, againstRule: String?, deintensify: String?, label: String) {
            self.taking = taking; self.indication = indication; self.against = against; self.againstRule = againstRule
            self.deintensify = deintensify; self.label = label
        }
    }
    public var recommended: String
    public var chosen: String
    public var outcome: Outcome
    public var reason: OverrideReason?
    public var note: String?
    public var probabilityOfRecommended: Float
    public var probabilityOfChosen: Float
    /// The chosen treatment was contraindicated by a guideline and the clinician confirmed it.
    public var contraindicatedChoice: Bool
    /// The reward for the recommendation, and the rule of the documented mapping that gave it.
    public var reward: Double
    public var rewardRule: String

    public struct ModelInput: Codable, Sendable, Equatable {
        public var visits: Int
        public var features: Int
        public var values: [Float]
        /// Dates of the visits the model saw.
        public var visitDates: [String]
        public init(visits: Int, features: Int, values: [Float], visitDates: [String]) {
            self.visits = visits; self.features = features; self.values = values; self.visitDates = visitDates
        }
    }

    /// A coded override reason (CDS Hooks overrideReason.reason).
    public struct OverrideReason: Codable, Sendable, Equatable {
        public var code: String
        public var display: String
        /// The coding in HL7's non-adherence reason code system it maps onto.
        public var system: String
        public var systemCode: String
        public init(code: String, display: String, system: String, systemCode: String) {
            self.code = code; self.display = display; self.system = system; self.systemCode = systemCode
        }
    }

    public init(id: String = UUID().uuidString.lowercased(), recordedAt: String = "", clinician: String, role: String?, sessionId: String,
                patient: String, visit: Int, visitDate: String, modelVersion: String?, modelSha256: String, knowledgeSha256: String,
                input: ModelInput, treatments: [String], probabilities: [Float], displayedOrder: [String], displayPolicy: String = "argmax",
                guidelineStatuses: [String: String], firedRules: [String], recommended: String, chosen: String, outcome: Outcome,
                reason: OverrideReason?, note: String?, contraindicatedChoice: Bool, reward: Double, rewardRule: String,
                guidelineStandings: [String: ShownStanding]? = nil) {
        self.id = id; self.recordedAt = recordedAt; self.clinician = clinician; self.role = role; self.sessionId = sessionId
        self.patient = patient; self.visit = visit; self.visitDate = visitDate; self.modelVersion = modelVersion; self.modelSha256 = modelSha256
        self.knowledgeSha256 = knowledgeSha256; self.input = input; self.treatments = treatments; self.probabilities = probabilities
        self.displayedOrder = displayedOrder; self.displayPolicy = displayPolicy; self.guidelineStatuses = guidelineStatuses
        self.guidelineStandings = guidelineStandings
        self.firedRules = firedRules; self.recommended = recommended; self.chosen = chosen; self.outcome = outcome; self.reason = reason
        self.note = note; self.contraindicatedChoice = contraindicatedChoice; self.reward = reward; self.rewardRule = rewardRule
        self.probabilityOfRecommended = treatments.firstIndex(of: recommended).map { probabilities[$0] } ?? 0
        self.probabilityOfChosen = treatments.firstIndex(of: chosen).map { probabilities[$0] } ?? 0
    }

    /// Canonical JSON (sorted keys, no whitespace): the text stored and hashed.
    public func canonical() throws -> String { try CanonicalJSON.string(self) }
}
