import Foundation

/// Where in an input a resource was found, for messages a person can act on.
public struct SourceLocation: Sendable, Codable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    /// Index in the Bundle's `entry` array, when the resource came from a Bundle.
    public var entry: Int?
    /// `Type/id` when known.
    public var resource: String?

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        var parts: [String] = []
        if let entry { parts.append("entry \(entry)") }
        if let resource { parts.append(resource) }
        if !parts.isEmpty { s += " (\(parts.joined(separator: ", ")))" }
        return s
    }
}

/// The parts of FHIR resources that Rounds uses, read from parsed JSON.
enum FHIRResource {
    struct Patient { var keys: [String]; var id: String; var name: String?; var gender: String?; var birthDate: Date?; var deceased: Date?; var location: SourceLocation }
    struct Encounter { var keys: [String]; var subject: String?; var start: Date?; var kind: String; var deathCertification: Bool; var location: SourceLocation }
    struct Value { var code: String; var display: String; var value: Double; var unit: String }
    struct Observation { var subject: String?; var encounter: String?; var time: Date?; var values: [Value]; var nonNumeric: [(code: String, display: String)]; var location: SourceLocation }
    struct Condition { var subject: String?; var code: String; var system: String; var display: String; var onset: Date?; var abatement: Date?; var resolvedWithoutDate: Bool; var location: SourceLocation }
    struct Coded { var code: String; var system: String; var display: String }
    struct MedicationRequest { var subject: String?; var status: String; var authored: Date?; var end: Date?; var medication: Coded?; var medicationReference: String?; var location: SourceLocation }
    struct Medication { var keys: [String]; var code: Coded }

    case patient(Patient), encounter(Encounter), observation(Observation), condition(Condition)
    case medicationRequest(MedicationRequest), medication(Medication)
}

enum FHIRSystem {
    static let loinc = "http://loinc.org"
    static let snomed = "http://snomed.info/sct"
    static let rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
}

/// Reads one resource (a parsed JSON object) into the parts Rounds uses.
struct ResourceReader {
    /// What a JSON value is, for messages about a value of the wrong type.
    static func jsonKind(_ v: Any) -> String {
        switch v {
        case is String: return "a string"
        case is NSNumber, is Bool, is Int, is Double: return "a number or boolean"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "null"
        }
    }

    /// Reads a resource. Returns nil for resource types Rounds does not use; throws when a used
    /// resource lacks what it must have.
    static func read(_ r: [String: Any], fullUrl: String?, location: SourceLocation, pack: KnowledgePack) throws -> FHIRResource? {
        guard let type = r["resourceType"] as? String else { throw ImportIssue("no resourceType", at: location) }
        let id = r["id"] as? String
        var keys: [String] = []
        if let fullUrl { keys.append(fullUrl) }
        if let id { keys.append("\(type)/\(id)") }
        switch type {
        case "Patient":
            // A transaction's POST entries may name a new Patient only by its fullUrl.
            guard let id = id ?? fullUrl.flatMap(Self.idFromFullUrl) else {
                throw ImportIssue("Patient without an id or a fullUrl to name it by", at: location)
            }
            if r["id"] == nil { keys.append("Patient/\(id)") }
            var birth: Date? = nil
            if let raw = r["birthDate"], !(raw is NSNull) {
                guard let b = raw as? String else { throw ImportIssue("birthDate is \(jsonKind(raw)), not a FHIR date", at: location) }
                guard let d = ClinicalCalendar.parse(b) else { throw ImportIssue("birthDate '\(b)' is not a FHIR date", at: location) }
                birth = d
            }
            var deceased: Date? = nil
            if let d = r["deceasedDateTime"] as? String { deceased = ClinicalCalendar.parse(d) }
            return .patient(.init(keys: keys, id: id, name: humanName(r["name"]), gender: r["gender"] as? String,
                                  birthDate: birth, deceased: deceased, location: location))
        case "Encounter":
            let period = r["period"] as? [String: Any]
            let start = (period?["start"] as? String).flatMap(ClinicalCalendar.parse) ?? (period?["end"] as? String).flatMap(ClinicalCalendar.parse)
            let types = (r["type"] as? [[String: Any]]) ?? []
            let kind = types.first.flatMap(codeableText) ?? ((r["class"] as? [String: Any])?["code"] as? String) ?? "encounter"
            // SNOMED 308646001 "Death certification": paperwork after death, not a visit.
            let death = types.contains { t in
                ((t["coding"] as? [[String: Any]]) ?? []).contains { ($0["code"] as? String) == "308646001" }
                    || (codeableText(t)?.lowercased().contains("death certification") ?? false)
            }
            return .encounter(.init(keys: keys, subject: reference(r["subject"] ?? r["patient"]), start: start, kind: cleanDisplay(kind),
                                    deathCertification: death, location: location))
        case "Observation":
            if let status = r["status"] as? String, ["entered-in-error", "cancelled"].contains(status) { return nil }
            let time = (r["effectiveDateTime"] as? String).flatMap(ClinicalCalendar.parse)
                ?? ((r["effectivePeriod"] as? [String: Any])?["start"] as? String).flatMap(ClinicalCalendar.parse)
                ?? (r["effectiveInstant"] as? String).flatMap(ClinicalCalendar.parse)
                ?? (r["issued"] as? String).flatMap(ClinicalCalendar.parse)
            var values: [FHIRResource.Value] = []
            var nonNumeric: [(String, String)] = []
            func take(_ obj: [String: Any]) {
                guard let coded = loincCode(obj["code"], pack: pack) else { return }
                if let q = obj["valueQuantity"] as? [String: Any], let v = number(q["value"]) {
                    let unit = (q["code"] as? String) ?? (q["unit"] as? String) ?? ""
                    values.append(.init(code: coded.code, display: coded.display, value: v, unit: unit))
                } else if obj["valueString"] != nil || obj["valueCodeableConcept"] != nil || obj["valueBoolean"] != nil || obj["valueInteger"] != nil {
                    if let i = obj["valueInteger"], let v = number(i) {
                        values.append(.init(code: coded.code, display: coded.display, value: v, unit: ""))
                    } else { nonNumeric.append((coded.code, coded.display)) }
                }
            }
            take(r)
            for comp in (r["component"] as? [[String: Any]]) ?? [] { take(comp) }
            return .observation(.init(subject: reference(r["subject"]), encounter: reference(r["encounter"] ?? r["context"]),
                                      time: time, values: values, nonNumeric: nonNumeric, location: location))
        case "Condition":
            if let v = firstCode(r["verificationStatus"]), ["refuted", "entered-in-error"].contains(v) { return nil }
            guard let coded = preferredCoding(r["code"], system: FHIRSystem.snomed) else { throw ImportIssue("Condition without a code", at: location) }
            let onset = (r["onsetDateTime"] as? String).flatMap(ClinicalCalendar.parse)
                ?? ((r["onsetPeriod"] as? [String: Any])?["start"] as? String).flatMap(ClinicalCalendar.parse)
                ?? (r["recordedDate"] as? String).flatMap(ClinicalCalendar.parse)
                ?? (r["assertedDate"] as? String).flatMap(ClinicalCalendar.parse)
            let abatement = (r["abatementDateTime"] as? String).flatMap(ClinicalCalendar.parse)
                ?? ((r["abatementPeriod"] as? [String: Any])?["end"] as? String).flatMap(ClinicalCalendar.parse)
            let clinical = firstCode(r["clinicalStatus"])
            let resolved = abatement == nil && ["resolved", "inactive", "remission"].contains(clinical ?? "")
            return .condition(.init(subject: reference(r["subject"] ?? r["patient"]), code: coded.code, system: coded.system, display: coded.display,
                                    onset: onset, abatement: abatement, resolvedWithoutDate: resolved, location: location))
        case "MedicationRequest", "MedicationOrder":
            let status = (r["status"] as? String) ?? "unknown"
            if ["entered-in-error", "draft", "cancelled"].contains(status) { return nil }
            let validity = (r["dispenseRequest"] as? [String: Any])?["validityPeriod"] as? [String: Any]
            let authored = (r["authoredOn"] as? String).flatMap(ClinicalCalendar.parse)
                ?? (r["dateWritten"] as? String).flatMap(ClinicalCalendar.parse)
                ?? (validity?["start"] as? String).flatMap(ClinicalCalendar.parse)
            let end = (validity?["end"] as? String).flatMap(ClinicalCalendar.parse)
            var coded = preferredCoding(r["medicationCodeableConcept"], system: FHIRSystem.rxnorm)
            var ref = reference(r["medicationReference"])
            if let local = ref, local.hasPrefix("#") {
                // A contained Medication, referenced as #id.
                let containedID = String(local.dropFirst())
                if let med = (r["contained"] as? [[String: Any]])?.first(where: { ($0["id"] as? String) == containedID }) {
                    coded = preferredCoding(med["code"], system: FHIRSystem.rxnorm)
                    ref = nil
                }
            }
            return .medicationRequest(.init(subject: reference(r["subject"] ?? r["patient"]), status: status, authored: authored, end: end,
                                            medication: coded, medicationReference: coded == nil ? ref : nil, location: location))
        case "Medication":
            guard let coded = preferredCoding(r["code"], system: FHIRSystem.rxnorm) else { return nil }
            return .medication(.init(keys: keys, code: coded))
        default:
            return nil
        }
    }

    /// The reference string of a Reference, normalised to a lookup key: `urn:uuid:...` as is,
    /// `#id` as is, anything else as its last `Type/id` (history and base URL dropped).
    static func reference(_ any: Any?) -> String? {
        guard let obj = any as? [String: Any], let ref = obj["reference"] as? String, !ref.isEmpty else { return nil }
        return normalizeReference(ref)
    }

    static func normalizeReference(_ ref: String) -> String {
        if ref.hasPrefix("urn:") || ref.hasPrefix("#") { return ref }
        if ref.contains("?") { return ref }   // conditional reference: left unresolved
        // `Type/id` (the common case) or no slash at all: already its own key, whatever the
        // parts below would make of it.
        if ref.utf8.lazy.filter({ $0 == UInt8(ascii: "/") }).count <= 1 { return ref }
        var parts = ref.split(separator: "/").map(String.init)
        if let h = parts.firstIndex(of: "_history") { parts = Array(parts[..<h]) }
        guard parts.count >= 2 else { return ref }
        return parts[parts.count - 2] + "/" + parts[parts.count - 1]
    }

    /// The id a fullUrl names: the uuid of `urn:uuid:...`, the oid of `urn:oid:...`, else the
    /// last path segment of `.../Patient/id`.
    static func idFromFullUrl(_ url: String) -> String? {
        for prefix in ["urn:uuid:", "urn:oid:"] where url.hasPrefix(prefix) {
            let rest = String(url.dropFirst(prefix.count))
            return rest.isEmpty ? nil : rest
        }
        let last = url.split(separator: "/").last.map(String.init)
        return last.flatMap { $0.isEmpty || $0.contains(":") ? nil : $0 }
    }

    static func number(_ any: Any?) -> Double? {
        if let n = any as? NSNumber { return n.doubleValue }
        if let s = any as? String { return Double(s) }
        return nil
    }

    static func cleanDisplay(_ s: String) -> String {
        // Plain ASCII that neither starts nor ends with white space is clean already (the
        // invisible characters removed below are not ASCII); checked on the bytes, it skips
        // the per-Character work for nearly every display.
        let u = s.utf8
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (0x09...0x0D).contains(c) }
        if let first = u.first, let last = u.last, !isSpace(first), !isSpace(last), u.allSatisfy({ $0 < 0x80 }) { return s }
        var out = s
        out.removeAll { $0 == "\u{200B}" || $0 == "\u{FEFF}" }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func codeableText(_ any: Any?) -> String? {
        guard let cc = any as? [String: Any] else { return nil }
        if let t = cc["text"] as? String, !t.isEmpty { return t }
        return ((cc["coding"] as? [[String: Any]])?.first?["display"] as? String)
    }

    static func firstCode(_ any: Any?) -> String? {
        ((any as? [String: Any])?["coding"] as? [[String: Any]])?.first?["code"] as? String
    }

    /// The coding in `system`, else the first coding with a code.
    static func preferredCoding(_ any: Any?, system: String) -> FHIRResource.Coded? {
        guard let cc = any as? [String: Any] else { return nil }
        let codings = (cc["coding"] as? [[String: Any]]) ?? []
        let chosen = codings.first { ($0["system"] as? String) == system && $0["code"] is String }
            ?? codings.first { $0["code"] is String }
        guard let c = chosen, let code = c["code"] as? String else { return nil }
        let display = (c["display"] as? String) ?? (cc["text"] as? String) ?? code
        return .init(code: code, system: (c["system"] as? String) ?? "", display: cleanDisplay(display))
    }

    /// The LOINC coding of an observation code: one that feeds a model feature when there are
    /// several (Synthea sometimes writes two LOINC codings), else the first LOINC coding.
    static func loincCode(_ any: Any?, pack: KnowledgePack) -> FHIRResource.Coded? {
        guard let cc = any as? [String: Any] else { return nil }
        let codings = ((cc["coding"] as? [[String: Any]]) ?? []).filter { ($0["system"] as? String) == FHIRSystem.loinc && $0["code"] is String }
        let chosen = codings.first { pack.features.definition(loinc: $0["code"] as! String) != nil } ?? codings.first
        guard let c = chosen else { return nil }
        let code = c["code"] as! String
        return .init(code: code, system: FHIRSystem.loinc, display: cleanDisplay((c["display"] as? String) ?? (cc["text"] as? String) ?? code))
    }

    static func humanName(_ any: Any?) -> String? {
        guard let names = any as? [[String: Any]], !names.isEmpty else { return nil }
        let n = names.first { ($0["use"] as? String) == "official" } ?? names[0]
        if let text = n["text"] as? String { return text }
        let given = (n["given"] as? [String])?.joined(separator: " ") ?? ""
        let family = (n["family"] as? String) ?? ""
        let full = "\(given) \(family)".trimmingCharacters(in: .whitespaces)
        return full.isEmpty ? nil : full
    }
}

/// Something in an input that Rounds could not use, and where.
public struct ImportIssue: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    public var message: String
    public var location: SourceLocation
    public init(_ message: String, at location: SourceLocation) { self.message = message; self.location = location }
    public var description: String { "\(location): \(message)" }
}
