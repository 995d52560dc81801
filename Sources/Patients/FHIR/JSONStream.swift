import Foundation

/// Reads a file in fixed-size chunks and hands out bytes one at a time, counting lines, so that
/// files far larger than memory can be scanned.
final class ByteSource {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var pos = 0
    private var eof = false
    private let chunkSize: Int
    /// 1-based line of the next byte.
    private(set) var line = 1

    init(url: URL, chunkSize: Int = 1 << 20) throws {
        handle = try FileHandle(forReadingFrom: url)
        self.chunkSize = chunkSize
    }

    deinit { try? handle.close() }

    @inline(__always) func peek() throws -> UInt8? {
        if pos == buffer.count { try refill() }
        return pos < buffer.count ? buffer[pos] : nil
    }

    @inline(__always) func next() throws -> UInt8? {
        if pos == buffer.count { try refill() }
        guard pos < buffer.count else { return nil }
        let b = buffer[pos]
        pos += 1
        if b == 0x0A { line += 1 }
        return b
    }

    /// After an opening quote: consumes the string through its closing quote, appending the
    /// bytes to `capture` when given. Works on whole buffer runs, since strings are most of a
    /// FHIR file (base64 notes above all). Returns false at end of file.
    func consumeString(capture: UnsafeMutablePointer<[UInt8]>?) throws -> Bool {
        var escaped = false
        while true {
            if pos == buffer.count { try refill(); if buffer.isEmpty { return false } }
            let start = pos
            var end = -1
            var newlines = 0
            buffer.withUnsafeBufferPointer { p in
                var i = start
                while i < p.count {
                    let c = p[i]
                    if escaped { escaped = false }
                    else if c == 0x5C { escaped = true }
                    else if c == 0x22 { end = i; break }
                    else if c == 0x0A { newlines += 1 }
                    i += 1
                }
            }
            line += newlines
            if end >= 0 {
                capture?.pointee.append(contentsOf: buffer[start...end])
                pos = end + 1
                return true
            }
            capture?.pointee.append(contentsOf: buffer[start...])
            pos = buffer.count
        }
    }

    private func refill() throws {
        guard !eof else { return }
        let data = try handle.read(upToCount: chunkSize) ?? Data()
        if data.isEmpty { eof = true; buffer = []; pos = 0; return }
        buffer = [UInt8](data)
        pos = 0
    }
}

/// A place in a JSON file that could not be read.
struct JSONScanError: Error {
    var line: Int
    var message: String
}

/// Streams the top level of a FHIR JSON document without loading it whole.
///
/// The top-level object's `resourceType` and `type` are read; every element of its `entry`
/// array is handed over as raw bytes (to be parsed alone); other members are skipped. Memory
/// stays bounded by the largest single entry.
struct TopLevelScanner {
    let source: ByteSource

    struct Summary { var resourceType: String?; var bundleType: String?; var entries = 0 }

    /// Scans the document; `onEntry(bytes, index, line)` receives each entry.
    func scan(onEntry: ([UInt8], Int, Int) throws -> Void) throws -> Summary {
        var summary = Summary()
        try skipWhitespace()
        guard let first = try source.next() else { throw JSONScanError(line: source.line, message: "the file is empty") }
        guard first == UInt8(ascii: "{") else {
            throw JSONScanError(line: source.line, message: first == UInt8(ascii: "[") ? "the top level is a JSON array, not a FHIR resource" : "not JSON: expected '{' at the start")
        }
        try skipWhitespace()
        if try source.peek() == UInt8(ascii: "}") { _ = try source.next() } else {
            while true {
                try skipWhitespace()
                try expect(UInt8(ascii: "\""), "a member name")
                let key = try readStringBody()
                try skipWhitespace()
                try expect(UInt8(ascii: ":"), "':' after \"\(key)\"")
                try skipWhitespace()
                switch key {
                case "resourceType", "type":
                    if try source.peek() == UInt8(ascii: "\"") {
                        _ = try source.next()
                        let value = try readStringBody()
                        if key == "resourceType" { summary.resourceType = value } else { summary.bundleType = value }
                    } else { try value(capture: nil) }
                case "entry" where try source.peek() == UInt8(ascii: "["):
                    _ = try source.next()
                    try skipWhitespace()
                    if try source.peek() == UInt8(ascii: "]") { _ = try source.next(); break }
                    while true {
                        try skipWhitespace()
                        let line = source.line
                        var bytes: [UInt8] = []
                        try value(capture: &bytes)
                        try onEntry(bytes, summary.entries, line)
                        summary.entries += 1
                        try skipWhitespace()
                        guard let c = try source.next() else { throw truncated() }
                        if c == UInt8(ascii: "]") { break }
                        guard c == UInt8(ascii: ",") else { throw JSONScanError(line: source.line, message: "expected ',' or ']' between entries, found '\(Character(UnicodeScalar(c)))'") }
                    }
                default:
                    try value(capture: nil)
                }
                try skipWhitespace()
                guard let c = try source.next() else { throw truncated() }
                if c == UInt8(ascii: "}") { break }
                guard c == UInt8(ascii: ",") else { throw JSONScanError(line: source.line, message: "expected ',' or '}' after \"\(key)\", found '\(Character(UnicodeScalar(c)))'") }
            }
        }
        try skipWhitespace()
        if try source.peek() != nil { throw JSONScanError(line: source.line, message: "unexpected content after the end of the JSON document") }
        return summary
    }

    private func truncated() -> JSONScanError {
        JSONScanError(line: source.line, message: "the file ends in the middle of the JSON document (truncated?)")
    }

    private func expect(_ byte: UInt8, _ what: String) throws {
        guard let c = try source.next() else { throw truncated() }
        guard c == byte else { throw JSONScanError(line: source.line, message: "expected \(what), found '\(Character(UnicodeScalar(c)))'") }
    }

    private func skipWhitespace() throws {
        while let c = try source.peek(), c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { _ = try source.next() }
    }

    /// Reads a string after its opening quote, up to and including the closing quote.
    private func readStringBody() throws -> String {
        var bytes: [UInt8] = []
        while true {
            guard let c = try source.next() else { throw truncated() }
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                guard let e = try source.next() else { throw truncated() }
                bytes.append(c); bytes.append(e)
            } else { bytes.append(c) }
        }
        if !bytes.contains(UInt8(ascii: "\\")) { return String(decoding: bytes, as: UTF8.self) }
        let quoted = [UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")]
        return (try? JSONSerialization.jsonObject(with: Data(quoted), options: .fragmentsAllowed) as? String) ?? String(decoding: bytes, as: UTF8.self)
    }

    /// Reads one JSON value, appending its bytes to `capture` when given. Structure is followed
    /// (nesting, strings, escapes) but content is validated later by the JSON parser.
    private func value(capture: UnsafeMutablePointer<[UInt8]>?) throws {
        guard let first = try source.next() else { throw truncated() }
        capture?.pointee.append(first)
        switch first {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 1
            while depth > 0 {
                guard let c = try source.next() else { throw truncated() }
                capture?.pointee.append(c)
                if c == UInt8(ascii: "\"") { guard try source.consumeString(capture: capture) else { throw truncated() } }
                else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
                else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") { depth -= 1 }
            }
        case UInt8(ascii: "\""):
            guard try source.consumeString(capture: capture) else { throw truncated() }
        case UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ","), UInt8(ascii: ":"):
            throw JSONScanError(line: source.line, message: "expected a value, found '\(Character(UnicodeScalar(first)))'")
        default:
            while let c = try source.peek(), !(c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") || c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09) {
                _ = try source.next()
                capture?.pointee.append(c)
            }
        }
    }
}
