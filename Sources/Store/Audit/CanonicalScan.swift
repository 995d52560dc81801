import Foundation

/// Reads an entry's content only if it is exactly in the layout `AuditEntry.canonical()`
/// writes (keys in that order, strings, integers, the detail object of strings), noting
/// where its compared fields are. Nil for anything else, and for compared fields with
/// escapes, escapes of `\u` form anywhere, or bytes that are not ASCII: the slow path decides those.
struct CanonicalScan {
    var seq = 0
    var recorded = (0, 0)
    var event = (0, 0)
    var clinician: (Int, Int)?
    var patient: (Int, Int)?

    init?(_ t: UnsafeBufferPointer<UInt8>) {
        var i = 0
        let n = t.count
        func lit(_ s: StaticString) -> Bool {
            let c = s.utf8CodeUnitCount
            guard i + c <= n, memcmp(t.baseAddress! + i, s.utf8Start, c) == 0 else { return false }
            i += c
            return true
        }
        var high = false
        /// A string at i and its contents' range. A compared one (`allowEscapes` false) must be
        /// plain ASCII, so that byte order and equality are `String`'s.
        func string(allowEscapes: Bool) -> (Int, Int)? {
            guard i < n, t[i] == 34 else { return nil }
            i += 1
            let start = i
            while i < n {
                let c = t[i]
                if c == 34 { i += 1; return (start, i - 1 - start) }
                if c < 32 { return nil }
                if c >= 128 { guard allowEscapes else { return nil }; high = true }
                if c == 92 {
                    guard allowEscapes, i + 1 < n else { return nil }
                    switch t[i + 1] { case 34, 92, 47, 98, 102, 110, 114, 116: i += 2; continue; default: return nil }
                }
                i += 1
            }
            return nil
        }
        func int() -> Int? {
            var v = 0, digits = 0, negative = false
            if i < n && t[i] == 45 { negative = true; i += 1 }
            while i < n, t[i] >= 48, t[i] <= 57 {
                let (m, o1) = v.multipliedReportingOverflow(by: 10), (a, o2) = m.addingReportingOverflow(Int(t[i] - 48))
                if o1 || o2 { return nil }
                v = a; i += 1; digits += 1
            }
            return digits == 0 ? nil : (negative ? -v : v)
        }
        guard lit("{\"action\":"), string(allowEscapes: true) != nil else { return nil }
        if lit(",\"clinician\":") { guard let c = string(allowEscapes: false) else { return nil }; clinician = c }
        guard lit(",\"detail\":{") else { return nil }
        if !lit("}") {
            repeat {
                guard string(allowEscapes: true) != nil, lit(":"), string(allowEscapes: true) != nil else { return nil }
            } while lit(",")
            guard lit("}") else { return nil }
        }
        guard lit(",\"event\":"), let e = string(allowEscapes: false) else { return nil }
        event = e
        guard lit(",\"outcome\":"), int() != nil else { return nil }
        if lit(",\"patient\":") { guard let p = string(allowEscapes: false) else { return nil }; patient = p }
        guard lit(",\"recorded\":"), let r = string(allowEscapes: false) else { return nil }
        recorded = r
        if lit(",\"role\":") { guard string(allowEscapes: true) != nil else { return nil } }
        guard lit(",\"seq\":"), let s = int() else { return nil }
        seq = s
        guard lit(",\"session\":"), string(allowEscapes: true) != nil, lit(",\"user\":"), string(allowEscapes: true) != nil, lit("}"), i == n else { return nil }
        // Text that is not UTF-8 reads differently as a String: the slow path decides.
        if high && String(validating: t, as: UTF8.self) == nil { return nil }
    }
}
