import Foundation

/// The "full explanation" link a card carries: a capability URL to the patient's case report,
/// because the clinician opens it in a browser, which cannot send the EHR's JWT. The token is
/// 256 random bits from the system's CSPRNG (`SystemRandomNumberGenerator`), bound in the
/// `CardLedger` to one served card (its uuid, patient, model and input), valid for
/// `defaultLifetime` and never derived from anything on the card.
struct ReportLink {
    /// One hour: long enough to read the report during the visit, short enough that a link
    /// forwarded or left in a browser history soon opens nothing.
    static let defaultLifetime: TimeInterval = 3600
    static let pathPrefix = "/cds-reports/"
    static let label = "Full explanation in Rounds"

    /// 32 random bytes as 64 lowercase hex digits.
    static func token() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<4).map { _ in rng.next() as UInt64 }.map { String(format: "%016llx", $0) }.joined()
    }

    /// Whether `text` has a token's shape (so nothing else is looked up, nor echoed).
    static func isToken(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The card's link: `base` (the service's public URL, no trailing slash) and the token's path.
    static func link(base: String, token: String) -> Link {
        Link(label: label, url: base + pathPrefix + token, type: "absolute")
    }
}
