import Foundation

/// A reader for the one shape of JSON the audit log writes: an object whose values are strings,
/// integers, booleans, null, or objects of strings. Verifying a million entries spends most of its
/// time parsing, and Foundation's decoder is general and slow; anything this reader does not
/// understand returns nil, and the caller falls back to `JSONDecoder`.
enum FlatJSON {
    enum Value: Equatable { case string(String), int(Int), bool(Bool), null, object([String: String]) }

    static func parse(_ text: String) -> [String: Value]? {
        var text = text
        return text.withUTF8 { buffer -> [String: Value]? in
            var p = Parser(bytes: buffer)
            return p.topObject()
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        mutating func skip() { while i < bytes.count, bytes[i] == 32 || bytes[i] == 10 || bytes[i] == 13 || bytes[i] == 9 { i += 1 } }
        mutating func eat(_ c: UInt8) -> Bool { skip(); if i < bytes.count && bytes[i] == c { i += 1; return true }; return false }

        mutating func topObject() -> [String: Value]? {
            guard eat(123) else { return nil }
            var out: [String: Value] = [:]
            if eat(125) { return finished(out) }
            repeat {
                guard let k = string(), eat(58), let v = value() else { return nil }
                out[k] = v
            } while eat(44)
            guard eat(125) else { return nil }
            return finished(out)
        }

        mutating func finished(_ o: [String: Value]) -> [String: Value]? { skip(); return i == bytes.count ? o : nil }

        mutating func value() -> Value? {
            skip()
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case 34: return string().map(Value.string)
            case 123:
                i += 1
                var o: [String: String] = [:]
                if eat(125) { return .object(o) }
                repeat {
                    guard let k = string(), eat(58), let v = string() else { return nil }
                    o[k] = v
                } while eat(44)
                return eat(125) ? .object(o) : nil
            case 116: return literal("true") ? .bool(true) : nil
            case 102: return literal("false") ? .bool(false) : nil
            case 110: return literal("null") ? .null : nil
            case 45, 48...57:
                var n = 0, negative = false, digits = 0
                if bytes[i] == 45 { negative = true; i += 1 }
                while i < bytes.count, (48...57).contains(bytes[i]) {
                    let (m, o1) = n.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(Int(bytes[i] - 48))
                    if o1 || o2 { return nil }
                    n = a; i += 1; digits += 1
                }
                // Fractions and exponents are not part of this shape.
                if digits == 0 || (i < bytes.count && (bytes[i] == 46 || bytes[i] == 101 || bytes[i] == 69)) { return nil }
                return .int(negative ? -n : n)
            default: return nil
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard i + n <= bytes.count else { return false }
            for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return false }
            i += n
            return true
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]; i += 1
                switch c {
                case 48...57: v = v << 4 | UInt32(c - 48)
                case 97...102: v = v << 4 | UInt32(c - 87)
                case 65...70: v = v << 4 | UInt32(c - 55)
                default: return nil
                }
            }
            return v
        }

        mutating func string() -> String? {
            skip()
            guard i < bytes.count, bytes[i] == 34 else { return nil }
            i += 1
            let start = i
            // Fast path: no escapes.
            while i < bytes.count, bytes[i] != 34, bytes[i] != 92 { if bytes[i] < 32 { return nil }; i += 1 }
            guard i < bytes.count else { return nil }
            if bytes[i] == 34 {
                defer { i += 1 }
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            }
            var out = Array(bytes[start..<i])
            while i < bytes.count {
                let c = bytes[i]; i += 1
                switch c {
                case 34: return String(decoding: out, as: UTF8.self)
                case 92:
                    guard i < bytes.count else { return nil }
                    let e = bytes[i]; i += 1
                    switch e {
                    case 34, 92, 47: out.append(e)
                    case 98: out.append(8)
                    case 102: out.append(12)
                    case 110: out.append(10)
                    case 114: out.append(13)
                    case 116: out.append(9)
                    case 117:
                        guard var u = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(u) {
                            guard i + 2 <= bytes.count, bytes[i] == 92, bytes[i + 1] == 117 else { return nil }
                            i += 2
                            guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(u) else { return nil }
                        out.append(contentsOf: String(Character(scalar)).utf8)
                    default: return nil
                    }
                case 0..<32: return nil
                default: out.append(c)
                }
            }
            return nil
        }
    }
}
