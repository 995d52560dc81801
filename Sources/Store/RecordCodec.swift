import Foundation
import Patients

/// The compact binary form in which a patient record is stored (`patient.record`).
///
/// Little-endian; strings interned in a table at the front, so a code or unit written at
/// every visit costs one small integer. Doubles are stored whole, so a record round-trips
/// bit for bit. Layout, version 1:
///
///     "RPR1" | strings: n, (len, utf8)*n | id, name+1 (0 = none), sex, birth, deceased?, origin
///     | visits: n, (id, date, kind, observations: n, (code, display, value, unit, time)*n)*n
///     | conditions: n, (code, display, onset, abatement?)*n | medications: n, (code, display, start, end?)*n
///
/// Integers are LEB128 varints; optional dates are a flag byte then the double.
///
/// Version 2 (`"RPR2"`) is version 1 followed by `encounters: n, (date, kind)*n`; a record with
/// no encounters (the synthetic cohort's) is still written as version 1, so its bytes do not change.
public enum RecordCodec {
    static let magic: [UInt8] = Array("RPR1".utf8)
    static let magic2: [UInt8] = Array("RPR2".utf8)

    public static func encode(_ r: PatientRecord) -> [UInt8] {
        var table: [String: Int] = [:]
        var strings: [String] = []
        func s(_ x: String) -> Int {
            if let i = table[x] { return i }
            table[x] = strings.count; strings.append(x); return strings.count - 1
        }
        var body = Writer()
        body.reserve(64 + r.visits.count * 200)
        body.varint(s(r.id))
        body.varint(r.name.map { s($0) + 1 } ?? 0)
        body.byte(UInt8(Sex.allCases.firstIndex(of: r.sex)!))
        body.double(r.birthDate.timeIntervalSinceReferenceDate)
        body.optionalDate(r.deceasedAt)
        body.byte(r.origin == .synthetic ? 0 : 1)
        body.varint(r.visits.count)
        for v in r.visits {
            body.varint(s(v.id)); body.double(v.date.timeIntervalSinceReferenceDate); body.varint(s(v.kind))
            body.varint(v.observations.count)
            for o in v.observations {
                body.varint(s(o.code)); body.varint(s(o.display)); body.double(o.value); body.varint(s(o.unit))
                body.double(o.time.timeIntervalSinceReferenceDate)
            }
        }
        body.varint(r.conditions.count)
        for c in r.conditions {
            body.varint(s(c.code)); body.varint(s(c.display)); body.double(c.onset.timeIntervalSinceReferenceDate); body.optionalDate(c.abatement)
        }
        body.varint(r.medications.count)
        for m in r.medications {
            body.varint(s(m.code)); body.varint(s(m.display)); body.double(m.start.timeIntervalSinceReferenceDate); body.optionalDate(m.end)
        }
        if !r.encounters.isEmpty {
            body.varint(r.encounters.count)
            for e in r.encounters { body.double(e.date.timeIntervalSinceReferenceDate); body.varint(s(e.kind)) }
        }
        var out = Writer()
        out.reserve(body.bytes.count + strings.count * 16 + 8)
        out.bytes += r.encounters.isEmpty ? magic : magic2
        out.varint(strings.count)
        for x in strings { let u = Array(x.utf8); out.varint(u.count); out.bytes += u }
        out.bytes += body.bytes
        return out.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> PatientRecord {
        var r = Reader(bytes: bytes)
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic || Array(bytes[0..<4]) == magic2 else { throw StoreError.corrupt("patient record has an unknown format") }
        let version2 = Array(bytes[0..<4]) == magic2
        r.pos = 4
        let n = try r.varint()
        var strings: [String] = []
        strings.reserveCapacity(n)
        for _ in 0..<n { let len = try r.varint(); strings.append(try r.string(len)) }
        func s() throws -> String {
            let i = try r.varint()
            guard i < strings.count else { throw StoreError.corrupt("patient record refers to string \(i) of \(strings.count)") }
            return strings[i]
        }
        let id = try s()
        let nameIndex = try r.varint()
        guard nameIndex <= strings.count else { throw StoreError.corrupt("bad name index") }
        let name = nameIndex == 0 ? nil : strings[nameIndex - 1]
        let sexIndex = Int(try r.byte())
        guard sexIndex < Sex.allCases.count else { throw StoreError.corrupt("bad sex code") }
        let birth = Date(timeIntervalSinceReferenceDate: try r.double())
        let deceased = try r.optionalDate()
        let origin: PatientRecord.Origin = try r.byte() == 0 ? .synthetic : .imported
        var visits: [Visit] = []
        let vc = try r.varint()
        visits.reserveCapacity(vc)
        for _ in 0..<vc {
            let vid = try s(); let date = Date(timeIntervalSinceReferenceDate: try r.double()); let kind = try s()
            let oc = try r.varint()
            var obs: [Observation] = []
            obs.reserveCapacity(oc)
            for _ in 0..<oc {
                let code = try s(), display = try s(), value = try r.double(), unit = try s()
                obs.append(Observation(code: code, display: display, value: value, unit: unit, time: Date(timeIntervalSinceReferenceDate: try r.double())))
            }
            visits.append(Visit(id: vid, date: date, kind: kind, observations: obs))
        }
        var conditions: [ConditionEntry] = []
        for _ in 0..<(try r.varint()) {
            let code = try s(), display = try s(), onset = Date(timeIntervalSinceReferenceDate: try r.double())
            conditions.append(ConditionEntry(code: code, display: display, onset: onset, abatement: try r.optionalDate()))
        }
        var meds: [MedicationEntry] = []
        for _ in 0..<(try r.varint()) {
            let code = try s(), display = try s(), start = Date(timeIntervalSinceReferenceDate: try r.double())
            meds.append(MedicationEntry(code: code, display: display, start: start, end: try r.optionalDate()))
        }
        var encounters: [EncounterEntry] = []
        if version2 {
            for _ in 0..<(try r.varint()) {
                let date = Date(timeIntervalSinceReferenceDate: try r.double())
                encounters.append(EncounterEntry(date: date, kind: try s()))
            }
        }
        guard r.pos == bytes.count else { throw StoreError.corrupt("patient record has \(bytes.count - r.pos) trailing bytes") }
        return PatientRecord(id: id, name: name, sex: Sex.allCases[sexIndex], birthDate: birth, deceasedAt: deceased,
                             origin: origin, visits: visits, conditions: conditions, medications: meds, encounters: encounters)
    }

    struct Writer {
        var bytes: [UInt8] = []
        mutating func reserve(_ n: Int) { bytes.reserveCapacity(n) }
        mutating func byte(_ b: UInt8) { bytes.append(b) }
        mutating func varint(_ v: Int) {
            var x = UInt64(v)
            while x >= 0x80 { bytes.append(UInt8(x & 0x7F) | 0x80); x >>= 7 }
            bytes.append(UInt8(x))
        }
        mutating func double(_ d: Double) {
            let bits = d.bitPattern
            for i in 0..<8 { bytes.append(UInt8((bits >> (8 * UInt64(i))) & 0xFF)) }
        }
        mutating func optionalDate(_ d: Date?) {
            if let d { byte(1); double(d.timeIntervalSinceReferenceDate) } else { byte(0) }
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var pos = 0
        mutating func byte() throws -> UInt8 {
            guard pos < bytes.count else { throw StoreError.corrupt("patient record ends early") }
            defer { pos += 1 }
            return bytes[pos]
        }
        mutating func varint() throws -> Int {
            var result: UInt64 = 0, shift: UInt64 = 0
            while true {
                let b = try byte()
                result |= UInt64(b & 0x7F) << shift
                if b < 0x80 { break }
                shift += 7
                guard shift < 63 else { throw StoreError.corrupt("bad integer in patient record") }
            }
            guard result < UInt64(Int32.max) else { throw StoreError.corrupt("implausible count in patient record") }
            return Int(result)
        }
        mutating func double() throws -> Double {
            guard pos + 8 <= bytes.count else { throw StoreError.corrupt("patient record ends early") }
            var bits: UInt64 = 0
            for i in 0..<8 { bits |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
            pos += 8
            return Double(bitPattern: bits)
        }
        mutating func optionalDate() throws -> Date? {
            try byte() == 1 ? Date(timeIntervalSinceReferenceDate: try double()) : nil
        }
        mutating func string(_ len: Int) throws -> String {
            guard pos + len <= bytes.count else { throw StoreError.corrupt("patient record ends early") }
            defer { pos += len }
            return String(decoding: bytes[pos..<(pos + len)], as: UTF8.self)
        }
    }
}
