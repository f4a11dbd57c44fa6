import Foundation

/// A calendar date in station local time, independent of any time zone.
public struct LocalDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= LocalDate.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (proleptic Gregorian), for arithmetic without a calendar.
    /// The Monday of this date's week (ISO weeks start on Monday).
    public var weekStart: LocalDate { adding(days: -weekday.index) }

    public var dayNumber: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public init(dayNumber z0: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        month = m
        day = d
    }

    public func adding(days: Int) -> LocalDate { LocalDate(dayNumber: dayNumber + days) }

    public var weekday: Weekday {
        // 1970-01-01 was a Thursday.
        let index = ((dayNumber % 7) + 7 + 3) % 7 // 0 = Monday
        return Weekday.allCases[index]
    }

    public var description: String { pad(year, width: 4) + "-" + pad(month) + "-" + pad(day) }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool { lhs.dayNumber < rhs.dayNumber }
}

/// Days of the week, Monday first, as schedule files spell them.
public enum Weekday: String, CaseIterable, Sendable, Codable, Hashable, Comparable {
    case mon, tue, wed, thu, fri, sat, sun

    public var label: String {
        switch self {
        case .mon: "Thứ Hai"
        case .tue: "Thứ Ba"
        case .wed: "Thứ Tư"
        case .thu: "Thứ Năm"
        case .fri: "Thứ Sáu"
        case .sat: "Thứ Bảy"
        case .sun: "Chủ nhật"
        }
    }

    var index: Int { Weekday.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.index < rhs.index }
}

/// The station's calendar: turns local dates and times into instants and back.
public struct StationCalendar: Sendable {
    public let timeZone: TimeZone
    private let calendar: Calendar

    public init(timeZone: TimeZone) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// The instant at which `time` is read on the station's clocks on `date`.
    public func instant(_ date: LocalDate, _ time: TimeOfDay) -> Date {
        let components = DateComponents(
            year: date.year, month: date.month, day: date.day,
            hour: time.hour, minute: time.minute, second: time.second)
        // Vietnam has no daylight saving; a nil here would only come from an impossible local time.
        return calendar.date(from: components)
            ?? Date(timeIntervalSince1970: Double(date.dayNumber * 86400 + time.secondsSinceMidnight))
    }

    /// The local date on which `instant` falls.
    public func localDate(of instant: Date) -> LocalDate {
        let c = calendar.dateComponents([.year, .month, .day], from: instant)
        return LocalDate(year: c.year ?? 1970, month: c.month ?? 1, day: c.day ?? 1) ?? LocalDate(dayNumber: 0)
    }

    /// RFC 3339 with the station's offset, to the millisecond, e.g. `2026-11-12T17:15:00.000+07:00`.
    public func rfc3339(_ instant: Date) -> String {
        RFC3339.string(instant, offsetSeconds: timeZone.secondsFromGMT(for: instant))
    }

    /// `HH:MM:SS` in station time.
    public func clockTime(_ instant: Date) -> String {
        let c = calendar.dateComponents([.hour, .minute, .second], from: instant)
        return "\(pad(c.hour ?? 0)):\(pad(c.minute ?? 0)):\(pad(c.second ?? 0))"
    }
}
