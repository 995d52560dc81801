import Foundation

/// Replaces patient, clinician and user ids by HMAC-SHA256 pseudonyms under the site key, in
/// the fields that hold them and wherever one appears as a word in free text (a note that names
/// a patient). The same id gets the same pseudonym in every export of one site, so exports can
/// be joined; without the key the pseudonym cannot be turned back into the id by trying ids.
/// Public so that a case report made with `--pseudonymize` names the patient as exports do.
public struct Pseudonymizer {
    let key: SiteKey
    /// Every id that must not appear, to its pseudonym.
    private var table: [String: String] = [:]
    /// Ids with characters that split words: replaced by plain search.
    private var awkward: [String] = []

    public init(key: SiteKey, patients: [String], people: [String]) {
        self.key = key
        for p in patients where !p.isEmpty { table[p] = "patient-" + key.mac("patient:" + p).prefix(20) }
        for c in people where !c.isEmpty && table[c] == nil { table[c] = "person-" + key.mac("person:" + c).prefix(20) }
        awkward = table.keys.filter { $0.unicodeScalars.contains { !Self.isWordScalar($0) } }.sorted { $0.count > $1.count }
    }

    static func isWordScalar(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 48...57, 65...90, 97...122, 45, 46, 95, 64: return true  // 0-9 A-Z a-z - . _ @
        default: return false
        }
    }

    public func id(_ s: String?) -> String? { s.map { table[$0] ?? scrub($0) } }

    /// A free-text value with every known id in it replaced.
    public func scrub(_ text: String) -> String {
        var out = ""
        var word = ""
        func flush() {
            if !word.isEmpty {
                out += table[word] ?? table[word.trimmingCharacters(in: CharacterSet(charactersIn: "."))].map { p in
                    word.hasSuffix(".") ? p + "." : p
                } ?? word
                word = ""
            }
        }
        for u in text.unicodeScalars {
            if Self.isWordScalar(u) { word.unicodeScalars.append(u) } else { flush(); out.unicodeScalars.append(u) }
        }
        flush()
        for a in awkward where out.contains(a) { out = out.replacingOccurrences(of: a, with: table[a]!) }
        return out
    }

    /// A file path names a file, and Synthea's file names carry patients' names: pseudonymized whole.
    func path(_ p: String) -> String { "file-" + key.mac("file:" + p).prefix(20) }

    func entry(_ e: AuditEntry) -> AuditEntry {
        var p = e
        p.clinician = id(e.clinician)
        p.user = id(e.user) ?? e.user
        p.patient = id(e.patient)
        p.detail = Dictionary(uniqueKeysWithValues: e.detail.map { k, v in (k, Self.pathKeys.contains(k) ? path(v) : scrub(v)) })
        return p
    }

    static let pathKeys: Set<String> = ["path", "file", "files", "out", "model_path"]
}
