import Foundation

/// Reads a request body into what `JSONSerialization.jsonObject(with:)` gives (`[String: Any]`,
/// `[Any]`, `String`, `NSNumber`, `NSNull`), straight from the UTF-8 bytes. Foundation's reader on
/// Linux builds a tree of its own first and converts it, and makes each string through
/// `String(bytes:encoding:)`: for a prefetch that was a fifth of a hook call's time.
///
/// Only the plain case is read here: UTF-8 without a byte-order mark, an object at the top,
/// at most `maxDepth` levels, no duplicate keys, no lone surrogates, numbers that are integers
/// or decimals without an exponent. Anything else, valid or not, goes
/// to `JSONSerialization`, so what is accepted, what is refused and what each value becomes
/// stay exactly Foundation's (the numbers are made as its `NSNumber.fromJSONNumber` makes them).
enum JSONReader {
    static let maxDepth = 64

    static func object(_ data: Data) throws -> Any {
        let fast: Any? = data.withUnsafeBytes { raw in
            var p = Parser(raw.bindMemory(to: UInt8.self))
            return p.document()
        }
        if let fast { return fast }
        return try JSONSerialization.jsonObject(with: data)
    }

    private struct Parser {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0
        var depth = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>) { b = bytes }

        mutating func document() -> Any? {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "{"), let v = value() else { return nil }
            skipSpace()
            return i == b.count ? v : nil
        }

        mutating func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }

        mutating func value() -> Any? {
            skipSpace()
            guard i < b.count else { return nil }
            switch b[i] {
            case UInt8(ascii: "{"): return object()
            case UInt8(ascii: "["): return array()
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true") ? NSNumber(value: true) : nil
            case UInt8(ascii: "f"): return literal("false") ? NSNumber(value: false) : nil
            case UInt8(ascii: "n"): return literal("null") ? NSNull() : nil
            default: return number()
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard i + n <= b.count else { return false }
            for k in 0..<n where b[i + k] != word.utf8Start[k] { return false }
            i += n
            return true
        }

        mutating func object() -> Any? {
            depth += 1
            defer { depth -= 1 }
            guard depth <= JSONReader.maxDepth else { return nil }
            i += 1
            var out: [String: Any] = [:]
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return out }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\""), let key = string() else { return nil }
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                guard let v = value() else { return nil }
                // A duplicate key is left to Foundation to decide.
                guard out.updateValue(v, forKey: key) == nil else { return nil }
                skipSpace()
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return out }
                return nil
            }
        }

        mutating func array() -> Any? {
            depth += 1
            defer { depth -= 1 }
            guard depth <= JSONReader.maxDepth else { return nil }
            i += 1
            var out: [Any] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return out }
            while true {
                guard let v = value() else { return nil }
                out.append(v)
                skipSpace()
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return out }
                return nil
            }
        }

        /// At the opening quote. Escapes are decoded; invalid UTF-8 or a control character gives nil.
        mutating func string() -> String? {
            i += 1
            let start = i
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    let s = String(validating: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                    i += 1
                    return s
                }
                if c == UInt8(ascii: "\\") { return escapedString(from: start) }
                if c < 0x20 { return nil }
                i += 1
            }
            return nil
        }

        /// The rest of a string that has an escape, from its first character at `start`.
        mutating func escapedString(from start: Int) -> String? {
            var bytes = Array(b[start..<i])
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") { i += 1; return String(validating: bytes, as: UTF8.self) }
                if c < 0x20 { return nil }
                guard c == UInt8(ascii: "\\") else { bytes.append(c); i += 1; continue }
                guard i + 1 < b.count else { return nil }
                let e = b[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    guard var unit = hex4() else { return nil }
                    if (0xDC00...0xDFFF).contains(unit) { return nil }
                    if (0xD800...0xDBFF).contains(unit) {
                        guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else { return nil }
                        i += 2
                        guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(unit) else { return nil }
                    bytes.append(contentsOf: String(Character(scalar)).utf8)
                default: return nil
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= b.count else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = b[i]
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
                i += 1
            }
            return v
        }

        /// RFC 8259's grammar without the exponent; made into an `NSNumber` as Foundation does.
        mutating func number() -> Any? {
            let start = i
            var negative = false
            if i < b.count, b[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            func isDigit(_ k: Int) -> Bool { k < b.count && b[k] >= UInt8(ascii: "0") && b[k] <= UInt8(ascii: "9") }
            guard isDigit(i) else { return nil }
            if b[i] == UInt8(ascii: "0") { i += 1; if isDigit(i) { return nil } } else { while isDigit(i) { i += 1 } }
            var integer = true
            if i < b.count, b[i] == UInt8(ascii: ".") {
                integer = false
                i += 1
                guard isDigit(i) else { return nil }
                while isDigit(i) { i += 1 }
            }
            if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { return nil }
            let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
            let count = text.utf8.count
            if integer {
                if negative, count <= 19, let v = Int64(text) { return NSNumber(value: v) }
                if !negative, count <= 20, let v = UInt64(text) { return NSNumber(value: v) }
            }
            // More digits than a Double holds: a decimal number, as Foundation makes it.
            if count > 17 {
                guard let d = Decimal(string: text), d.isFinite else { return nil }
                return NSDecimalNumber(decimal: d)
            }
            guard let d = Double(text), d.isFinite else { return nil }
            return NSNumber(value: d)
        }
    }
}
