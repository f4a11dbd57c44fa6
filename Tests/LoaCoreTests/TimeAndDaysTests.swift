import Foundation
import LoaCore
import Testing

@Suite("Times, dates and day sets")
struct TimeAndDaysTests {
    @Test("HH:MM and HH:MM:SS parse; out-of-range and malformed times do not")
    func timeOfDayParsing() {
        #expect(TimeOfDay(parsing: "05:30")?.secondsSinceMidnight == 5 * 3600 + 30 * 60)
        #expect(TimeOfDay(parsing: "17:15:09")?.second == 9)
        for bad in ["24:00", "7:30", "12:60", "12:00:60", "ab:cd", "12", "12:00:00:00", ""] {
            #expect(TimeOfDay(parsing: bad) == nil, "\(bad)")
        }
        #expect(TimeOfDay(parsing: "17:15")?.description == "17:15")
        #expect(TimeOfDay(parsing: "17:15:30")?.description == "17:15:30")
    }

    @Test("Weekdays come from the calendar: 2026-11-23 is a Monday")
    func weekdays() throws {
        #expect(try #require(LocalDate(parsing: "2026-11-23")).weekday == .mon)
        #expect(try #require(LocalDate(parsing: "2026-11-15")).weekday == .sun)
        #expect(try #require(LocalDate(parsing: "2024-02-29")).weekday == .thu)
        #expect(LocalDate(parsing: "2026-02-29") == nil)
        let d = try #require(LocalDate(parsing: "2026-12-31"))
        #expect(d.adding(days: 1).description == "2027-01-01")
    }

    @Test("Day sets: daily, ranges, lists, wrapping ranges")
    func daySets() {
        #expect(DaySet(parsing: "daily") == .daily)
        #expect(DaySet(parsing: "mon-fri")?.days == [.mon, .tue, .wed, .thu, .fri])
        #expect(DaySet(parsing: "mon,wed")?.days == [.mon, .wed])
        #expect(DaySet(parsingList: ["sat", "sun"])?.days == [.sat, .sun])
        #expect(DaySet(parsing: "sat-mon")?.days == [.sat, .sun, .mon])
        #expect(DaySet(parsing: "funday") == nil)
        #expect(DaySet(parsing: "mon-fri")?.description == "mon-fri")
    }

    @Test("Station instants and RFC 3339 carry the +07:00 offset")
    func stationCalendar() throws {
        let calendar = StationCalendar(timeZone: try #require(TimeZone(identifier: "Asia/Ho_Chi_Minh")))
        let date = try #require(LocalDate(parsing: "2026-11-12"))
        let instant = calendar.instant(date, try #require(TimeOfDay(parsing: "17:15")))
        #expect(instant.timeIntervalSince1970 == 1_794_478_500)
        #expect(calendar.rfc3339(instant) == "2026-11-12T17:15:00.000+07:00")
        #expect(calendar.rfc3339(instant.addingTimeInterval(0.25)) == "2026-11-12T17:15:00.250+07:00")
        #expect(calendar.localDate(of: instant) == date)
    }

    @Test("Slugs fold Vietnamese diacritics and đ")
    func slugs() {
        #expect(Segment.slug("Bản tin Đông Hòa: RCEP!") == "ban-tin-dong-hoa-rcep")
        #expect(Segment.slug("***") == "segment")
    }
}
