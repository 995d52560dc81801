import Foundation

/// Dates as clinical records write them, read and shown in UTC.
///
/// FHIR dates come as `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or a full dateTime with an offset
/// (`2011-06-19T23:39:31+02:00`) or `Z`, with or without fractional seconds. Every instant is
/// kept as an absolute time; days are shown in UTC.
public enum ClinicalCalendar {
    /// Parses a FHIR `date`, `dateTime` or `instant`. Returns nil when the text is not one.
    public static func parse(_ text: String) -> Date? {
        let s = Array(text.utf8)
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= s.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                let c = s[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard let year = digits(0, 4) else { return nil }
        var month = 1, day = 1, hour = 0, minute = 0, second = 0
        var fraction = 0.0
        var offsetSeconds = 0
        var i = 4
        if i < s.count {
            guard s[i] == UInt8(ascii: "-"), let m = digits(i + 1, 2) else { return nil }
            month = m; i += 3
            if i < s.count {
                guard s[i] == UInt8(ascii: "-"), let d = digits(i + 1, 2) else { return nil }
                day = d; i += 3
                if i < s.count {
                    guard s[i] == UInt8(ascii: "T") || s[i] == UInt8(ascii: " "),
                          let h = digits(i + 1, 2), s.count > i + 3, s[i + 3] == UInt8(ascii: ":"),
                          let mi = digits(i + 4, 2) else { return nil }
                    hour = h; minute = mi; i += 6
                    if i < s.count, s[i] == UInt8(ascii: ":") {
                        guard let sec = digits(i + 1, 2) else { return nil }
                        second = sec; i += 3
                        if i < s.count, s[i] == UInt8(ascii: ".") {
                            i += 1
                            var scale = 0.1
                            while i < s.count, s[i] >= 48, s[i] <= 57 {
                                fraction += Double(s[i] - 48) * scale; scale /= 10; i += 1
                            }
                        }
                    }
                    if i < s.count {
                        if s[i] == UInt8(ascii: "Z") { i += 1 } else {
                            guard s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-"),
                                  let oh = digits(i + 1, 2), s.count > i + 3, s[i + 3] == UInt8(ascii: ":"),
                                  let om = digits(i + 4, 2) else { return nil }
                            offsetSeconds = (oh * 3600 + om * 60) * (s[i] == UInt8(ascii: "-") ? -1 : 1)
                            i += 6
                        }
                    }
                    guard i == s.count else { return nil }
                }
            }
        }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days) * 86400 + Double(hour * 3600 + minute * 60 + second) + fraction - Double(offsetSeconds)
        return Date(timeIntervalSince1970: seconds)
    }

    /// Midnight UTC of a calendar day.
    public static func day(_ year: Int, _ month: Int, _ day: Int) -> Date {
        Date(timeIntervalSince1970: Double(daysFromCivil(year: year, month: month, day: day)) * 86400)
    }

    /// The last second of `date`'s UTC day: "as of a day" includes everything taken on it.
    public static func endOfDay(_ date: Date) -> Date {
        Date(timeIntervalSince1970: ((date.timeIntervalSince1970 / 86400).rounded(.down) + 1) * 86400 - 1)
    }

    /// `YYYY-MM-DD` in UTC.
    public static func dayString(_ date: Date) -> String {
        let (y, m, d) = civil(fromDays: Int((date.timeIntervalSince1970 / 86400).rounded(.down)))
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, or with milliseconds `YYYY-MM-DDTHH:MM:SS.sssZ` (RFC 3339, UTC).
    public static func instantString(_ date: Date, milliseconds: Bool = false) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let days = Int((Double(ms) / 86_400_000).rounded(.down))
        let msOfDay = Int(ms - Int64(days) * 86_400_000)
        let secs = msOfDay / 1000
        let (y, m, d) = civil(fromDays: days)
        let base = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, secs / 3600, secs / 60 % 60, secs % 60)
        return milliseconds ? base + String(format: ".%03dZ", msOfDay % 1000) : base + "Z"
    }

    /// Completed years between two instants (birthdays counted on the UTC calendar).
    public static func wholeYears(from start: Date, to end: Date) -> Int {
        let a = civil(fromDays: Int((start.timeIntervalSince1970 / 86400).rounded(.down)))
        let b = civil(fromDays: Int((end.timeIntervalSince1970 / 86400).rounded(.down)))
        var years = b.0 - a.0
        if (b.1, b.2) < (a.1, a.2) { years -= 1 }
        return years
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
