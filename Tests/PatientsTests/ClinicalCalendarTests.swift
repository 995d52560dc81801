import Foundation
import Testing
@testable import Patients

@Suite struct ClinicalCalendarTests {
    @Test func parsesEveryFHIRDateForm() throws {
        let utc = try #require(ClinicalCalendar.parse("2011-06-19T21:39:31Z"))
        #expect(ClinicalCalendar.parse("2011-06-19T23:39:31+02:00") == utc)
        #expect(ClinicalCalendar.parse("2011-06-19T16:39:31-05:00") == utc)
        #expect(ClinicalCalendar.parse("2011-06-20T03:09:31+05:30") == utc)
        #expect(ClinicalCalendar.parse("2011-06-19T21:39:31.500Z") == utc.addingTimeInterval(0.5))
        #expect(ClinicalCalendar.parse("1946-02-01") == Date(timeIntervalSince1970: -754_704_000))
        #expect(ClinicalCalendar.parse("1970-01") == Date(timeIntervalSince1970: 0))
        #expect(ClinicalCalendar.parse("1970") == Date(timeIntervalSince1970: 0))
    }

    @Test(arguments: ["", "20110619", "2011-13-01", "2011-06-19T25:00:00Z", "2011-06-19T21:39:31+0200", "yesterday", "2011-06-19T21:39:31Zjunk"])
    func rejectsWhatIsNoDate(_ text: String) {
        #expect(ClinicalCalendar.parse(text) == nil)
    }

    @Test func daysAndAgesUseTheUTCCalendar() {
        let birth = ClinicalCalendar.day(1950, 9, 29)
        #expect(ClinicalCalendar.dayString(birth) == "1950-09-29")
        #expect(ClinicalCalendar.instantString(ClinicalCalendar.parse("2019-04-22T10:05:07+02:00")!) == "2019-04-22T08:05:07Z")
        #expect(ClinicalCalendar.wholeYears(from: birth, to: ClinicalCalendar.day(2019, 9, 28)) == 68)
        #expect(ClinicalCalendar.wholeYears(from: birth, to: ClinicalCalendar.day(2019, 9, 29)) == 69)
        // Leap day births.
        let leap = ClinicalCalendar.day(2000, 2, 29)
        #expect(ClinicalCalendar.wholeYears(from: leap, to: ClinicalCalendar.day(2001, 2, 28)) == 0)
        #expect(ClinicalCalendar.wholeYears(from: leap, to: ClinicalCalendar.day(2001, 3, 1)) == 1)
    }

    @Test func civilDaysRoundTripOverCenturies() {
        for days in stride(from: -40_000, through: 40_000, by: 37) {
            let (y, m, d) = ClinicalCalendar.civil(fromDays: days)
            #expect(ClinicalCalendar.daysFromCivil(year: y, month: m, day: d) == days)
        }
    }
}
