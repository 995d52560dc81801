import Guidelines

extension Output {
    /// An option's guideline standing as every view shows it: a contraindication alone and loud
    /// (`✖ CONTRAINDICATED`, with `· taken now` when the patient takes it); otherwise the reason
    /// for it (`✓ indicated`, or `= already taking`) beside the reason against (`! caution`,
    /// `! recheck data`) and any `↓ deintensify`; `· no rule` when nothing fired.
    func standing(_ s: Standing) -> String {
        if s.contraindicated { return red(bold("✖ CONTRAINDICATED")) + (s.taking ? red(" · taken now") : "") }
        var parts: [String] = []
        if s.taking { parts.append("= already taking") } else if s.indication != nil { parts.append("✓ indicated") }
        if s.deintensify != nil { parts.append(yellow("↓ deintensify")) }
        if let a = s.against { parts.append(yellow("! " + a.status.label)) }
        return parts.isEmpty ? dim("· no rule") : parts.joined(separator: " · ")
    }
}
