import Foundation

/// What the guidelines say of one option, read the way a clinician reads it: the strongest
/// reason for it beside the strongest reason against it, whether the patient already takes it,
/// and whether a rule asks to reduce or stop it.
///
/// The worst-finding status (`GuidelineChecker.Report.statuses`) let an info-level caution hide
/// a grade-A indication (heart failure and ASCVD on insulin: SGLT2 inhibitor "caution", the
/// ketoacidosis note); a standing keeps both. A contraindication still overrides the rest.
public struct Standing: Sendable, Codable, Equatable {
    /// One side of the standing: its status and the rule that gave it.
    public struct Part: Sendable, Codable, Equatable {
        public var status: GuidelineStatus
        public var rule: String
        public var severity: Rule.Severity
        public init(status: GuidelineStatus, rule: String, severity: Rule.Severity) { self.status = status; self.rule = rule; self.severity = severity }
    }

    /// The patient takes a drug of this option at the index visit: it is current therapy, never
    /// an addition, so it is not called indicated.
    public var taking: Bool
    /// The strongest fired indication (most severe rule first); nil when none fired.
    public var indication: Part?
    /// The strongest reason against: contraindicated, then caution, then recheck data.
    public var against: Part?
    /// A fired deintensification rule for a drug being taken: reduce or stop it.
    public var deintensify: String?

    public init(taking: Bool = false, indication: Part? = nil, against: Part? = nil, deintensify: String? = nil) {
        self.taking = taking; self.indication = indication; self.against = against; self.deintensify = deintensify
    }

    public var contraindicated: Bool { against?.status == .contraindicated }

    /// Indicated as an addition: an indication fired, the option is not taken, nothing contraindicates it.
    public var indicatedAsAddition: Bool { indication != nil && !taking && !contraindicated }

    /// The words shown, strongest first, without colour: `CONTRAINDICATED · taken now`,
    /// `indicated · caution`, `already taking · deintensify`, `no rule`.
    public var parts: [String] {
        if contraindicated { return ["CONTRAINDICATED"] + (taking ? ["taken now"] : []) }
        var out: [String] = []
        if taking { out.append("already taking") } else if indication != nil { out.append("indicated") }
        if deintensify != nil { out.append("deintensify") }
        if let a = against { out.append(a.status.label) }
        return out.isEmpty ? ["no rule"] : out
    }

    public var label: String { parts.joined(separator: " · ") }
}

extension Standing {
    /// The standing of `treatment` under `findings`. A finding counts on the reason-against
    /// side as the worst-finding status always counted it (a fired contraindication of critical
    /// severity contraindicates; a warning-level one, a caution or a warning-level monitoring
    /// rule cautions; a rule about missing facts, or one that cannot be decided, asks for a
    /// recheck); an indication that cannot be decided takes nothing away.
    static func of(_ treatment: String, findings: [Finding], taking: Bool) -> Standing {
        var s = Standing(taking: taking)
        func better(_ a: Part, than b: Part?) -> Bool {
            guard let b else { return true }
            return a.status < b.status || (a.status == b.status && a.severity > b.severity)
        }
        for f in findings where f.treatments.contains(treatment) {
            if f.kind == .deintensification {
                if f.status == .fired && taking && s.deintensify == nil { s.deintensify = f.rule }
                continue
            }
            if f.kind == .indication && f.status == .fired && !f.aboutMissingData {
                let p = Part(status: .indicated, rule: f.rule, severity: f.severity)
                if s.indication.map({ p.severity > $0.severity }) ?? true { s.indication = p }
                continue
            }
            guard let status = f.againstStatus else { continue }
            let p = Part(status: status, rule: f.rule, severity: f.severity)
            if better(p, than: s.against) { s.against = p }
        }
        return s
    }
}

extension Finding {
    /// The status a finding sets on the reason-against side, nil when it sets none.
    var againstStatus: GuidelineStatus? {
        switch (status, kind) {
        case (_, .indication) where status == .unknown: return nil
        case (.unknown, .deintensification): return nil
        case (.unknown, _): return .recheck
        case (.fired, _) where aboutMissingData: return .recheck
        case (.fired, .contraindication): return severity == .critical ? .contraindicated : .caution
        case (.fired, .caution): return .caution
        case (.fired, .monitoring): return severity == .info ? nil : .caution
        case (.fired, .indication), (.fired, .deintensification): return nil
        }
    }
}
