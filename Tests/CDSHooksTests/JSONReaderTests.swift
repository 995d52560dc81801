import Foundation
import Testing
import TestSupport
@testable import CDSHooks

/// `JSONReader` must give exactly what `JSONSerialization` gives: the same values of the same
/// Foundation types (numbers of the same kind), and a refusal wherever it refuses.
@Suite struct JSONReaderTests {
    /// Whether two parsed values are the same, type for type; `path` names the first difference.
    static func difference(_ a: Any, _ b: Any, _ path: String = "$") -> String? {
        if let x = a as? [String: Any] {
            guard let y = b as? [String: Any], x.count == y.count else { return path }
            for (k, v) in x {
                guard let w = y[k] else { return path + "." + k }
                if let d = difference(v, w, path + "." + k) { return d }
            }
            return nil
        }
        if let x = a as? [Any] {
            guard let y = b as? [Any], x.count == y.count else { return path }
            for k in x.indices { if let d = difference(x[k], y[k], path + "[\(k)]") { return d } }
            return nil
        }
        if let x = a as? String { return (b as? String).map { Array($0.utf8) == Array(x.utf8) } == true ? nil : path }
        guard type(of: a) == type(of: b) else { return path + " (\(type(of: a)) vs \(type(of: b)))" }
        if let x = a as? NSNumber, let y = b as? NSNumber {
            return x == y && String(cString: x.objCType) == String(cString: y.objCType) ? nil : path + " (\(x) vs \(y))"
        }
        return a is NSNull && b is NSNull ? nil : path
    }

    static func check(_ data: Data, _ what: String) {
        let reference = try? JSONSerialization.jsonObject(with: data)
        let read = try? JSONReader.object(data)
        switch (reference, read) {
        case (nil, nil): break
        case (let r?, let m?): #expect(difference(r, m) == nil, "\(what): \(difference(r, m) ?? "")")
        default: #expect(Bool(false), "\(what): JSONSerialization \(reference == nil ? "refuses" : "accepts") it, JSONReader does not")
        }
    }

    @Test func readsEveryFixtureAsJSONSerializationDoes() throws {
        for url in TestSupport.fixtureFiles where url.pathExtension == "json" {
            let bundle = try Data(contentsOf: url)
            Self.check(bundle, url.lastPathComponent)
            // Inside a hook request, with an object at the top as JSONReader reads it itself.
            Self.check(Data("{\"prefetch\":{\"bundle\":".utf8) + bundle + Data("}}".utf8), url.lastPathComponent + " in a request")
        }
    }

    @Test func agreesOnNumbersStringsAndEveryRefusal() {
        let cases = [
            #"{}"#, #"{"a":1}"#, #" { "a" : [ 1 , 2 ] } "#, #"{"a":[true,false,null,[],{}]}"#,
            #"{"a":-1,"b":0,"c":-0,"d":1.5,"e":-0.25,"f":1e5,"g":1E5,"h":12345678901234567890,"i":-9223372036854775808,"j":18446744073709551616}"#,
            #"{"a":0.1,"b":123.456,"c":0.30000000000000004,"d":47.70818769427208,"e":1.23456789012345678,"f":-1.5e-3}"#,
            #"{"a":"x\"y\\z\/w\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00","b":"\u0000","c":"café"}"#,
            #"{"a":"\ud83d"}"#, #"{"a":"\ude00"}"#, #"{"a":1,"a":2}"#, #"{"é":1,"é":2}"#,
            #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":+1}"#, #"{"a":1,}"#, #"{"a":[1,]}"#, "{\"a\":\"tab\tx\"}",
            #"{"a":tru}"#, #"{"a":nul}"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":1} x"#, #"{"a":1"#, #"{"a""#, #"{"#, "",
            #"[1]"#, #""x""#, #"1"#, "{\"a\":" + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}",
            "{\"a\":" + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}",
        ]
        for c in cases { Self.check(Data(c.utf8), c) }
        for bytes: [UInt8] in [[0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D], [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x22, 0x7D], [0xEF, 0xBB, 0xBF, 0x7B, 0x7D]] {
            Self.check(Data(bytes), "bytes \(bytes)")
        }
    }
}
