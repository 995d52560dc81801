import Foundation
import Patients
import Review

/// A CDS Hooks 2.0 hook call, checked: every problem is a 400 that names the field, except
/// missing prefetch, which is the specification's 412.
struct HookRequest {
    let hook: String
    let hookInstance: String
    /// `context.userId` (`Practitioner/123`) and the clinician id and role taken from it.
    let userId: String
    let clinician: String
    let role: String
    let patientId: String
    let context: [String: Any]
    let prefetch: [String: Any]

    static func parse(_ body: Data, for service: ServiceDefinition) throws -> HookRequest {
        guard !body.isEmpty else { throw CDSHooksError.badRequest("the request body is empty: a CDS Hooks request is a JSON object with hook, hookInstance, context and prefetch") }
        let json: Any
        do { json = try JSONReader.object(body) } catch {
            throw CDSHooksError.badRequest("the request body is not valid JSON")
        }
        guard let o = json as? [String: Any] else { throw CDSHooksError.badRequest("the request body must be a JSON object (a CDS Hooks request), not \(JSONKind.name(json))") }
        let hook = try string(o, "hook", "the hook called (here '\(service.hook)')")
        guard hook == service.hook else {
            throw CDSHooksError.badRequest("'hook' is '\(hook)', but service '\(service.id)' answers '\(service.hook)'")
        }
        let instance = try string(o, "hookInstance", "a UUID for this hook call")
        guard instance.count <= 128, instance.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw CDSHooksError.badRequest("'hookInstance' must be a UUID (at most 128 characters, no spaces)")
        }
        guard let contextValue = o["context"] else { throw CDSHooksError.badRequest("'context' is missing: it names the patient (patientId) and the user (userId)") }
        guard let context = contextValue as? [String: Any] else { throw CDSHooksError.badRequest("'context' must be an object, not \(JSONKind.name(contextValue))") }
        let patientId = try string(context, "patientId", "the FHIR id of the patient in view", prefix: "context.")
        let userId = try string(context, "userId", "who is acting, e.g. Practitioner/123 (decisions need a clinician)", prefix: "context.")
        let parts = userId.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, ["Practitioner", "PractitionerRole"].contains(parts[0]) else {
            throw CDSHooksError.badRequest("context.userId '\(userId)' must be Practitioner/ID or PractitionerRole/ID")
        }
        let clinician = String(parts[1])
        do { try Reviewer.checkClinician(clinician) } catch let e as ReviewError {
            throw CDSHooksError.badRequest("context.userId: \(e.message)")
        }
        guard let prefetchValue = o["prefetch"], !JSONKind.isNull(prefetchValue) else {
            throw CDSHooksError.missingPrefetch("prefetch is missing: this service reads only prefetched data (\(ServiceDefinition.prefetchKeys.joined(separator: ", "))) and does not query fhirServer")
        }
        guard let prefetch = prefetchValue as? [String: Any] else { throw CDSHooksError.badRequest("'prefetch' must be an object, not \(JSONKind.name(prefetchValue))") }
        let missing = ServiceDefinition.prefetchKeys.filter { key in prefetch[key].map(JSONKind.isNull) ?? true }
        guard missing.isEmpty else {
            throw CDSHooksError.missingPrefetch("prefetch lacks \(missing.joined(separator: ", ")): the service needs every key its discovery document lists")
        }
        return HookRequest(hook: hook, hookInstance: instance, userId: userId, clinician: clinician,
                           role: parts[0] == "Practitioner" ? "practitioner" : "practitioner-role",
                           patientId: patientId, context: context, prefetch: prefetch)
    }

    private static func string(_ o: [String: Any], _ key: String, _ what: String, prefix: String = "") throws -> String {
        guard let v = o[key] else { throw CDSHooksError.badRequest("'\(prefix)\(key)' is missing: \(what)") }
        guard let s = v as? String, !s.isEmpty else { throw CDSHooksError.badRequest("'\(prefix)\(key)' must be a non-empty string, not \(JSONKind.name(v))") }
        return s
    }

    /// The patient the prefetch holds, read by the same code as `rounds import`.
    func record(pack: KnowledgePack) throws -> (record: PatientRecord, report: ImportReport) {
        let inputs = ServiceDefinition.prefetchKeys.map { FHIRImporter.ParsedInput(name: "prefetch.\($0)", json: prefetch[$0]!) }
        let result: (records: [PatientRecord], report: ImportReport)
        do { result = try FHIRImporter(pack: pack).records(from: inputs) } catch let issue as ImportIssue {
            throw CDSHooksError.badRequest(issue.description)
        }
        guard let record = result.records.first(where: { $0.id == patientId }) else {
            throw CDSHooksError.badRequest("the prefetched Patient is \(result.records.map(\.id).joined(separator: ", ")), but context.patientId is '\(patientId)'")
        }
        return (record, result.report)
    }
}

/// JSON value kinds in words, for messages.
enum JSONKind {
    static func name(_ v: Any) -> String {
        switch v {
        case is String: return "a string"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        case _ where isNull(v): return "null"
        case is NSNumber: return "a number or boolean"
        default: return "a \(type(of: v))"
        }
    }

    /// Whether a value JSONSerialization (or `JSONReader`) parsed is JSON null. Not a plain `v is NSNull`: on
    /// Linux that cast first converts a Swift dictionary or array to its Foundation class,
    /// deeply, to see whether it is one (for a prefetch, a third of a hook call's time,
    /// measured); the containers and strings are ruled out first, without conversion.
    static func isNull(_ v: Any) -> Bool {
        switch v {
        case is [String: Any], is [Any], is String: return false
        default: return v is NSNull
        }
    }
}
