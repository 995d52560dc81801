/// A request the service refuses: the HTTP status the CDS Hooks specification gives for it and
/// a message naming what is wrong (never patient data beyond what the caller sent).
public struct CDSHooksError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let message: String
    public init(_ status: Int, _ message: String) { self.status = status; self.message = message }
    public var description: String { "\(status): \(message)" }

    static func badRequest(_ m: String) -> CDSHooksError { .init(400, m) }
    /// 412: "the CDS Service is unable to retrieve the necessary FHIR data" (CDS Hooks 2.0 §
    /// HTTP response); this service reads only what the client prefetched.
    static func missingPrefetch(_ m: String) -> CDSHooksError { .init(412, m) }
    static func unauthorized(_ m: String) -> CDSHooksError { .init(401, m) }
    static func notFound(_ m: String) -> CDSHooksError { .init(404, m) }
}
