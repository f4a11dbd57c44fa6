import Foundation
import LoaCore
import Testing

@Suite("RFC 3339: the one writer of instants, in station time and in UTC")
struct RFC3339Tests {
    /// Whole milliseconds from 1975 to 2100, so that neither side has a rounding to make.
    static func instants(count: Int) -> [Date] {
        var state: UInt64 = 88_172_645_463_325_252
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Date(timeIntervalSince1970: Double(Int64(state % 3_944_678_400_000) + 157_766_400_000) / 1000)
        }
    }

    @Test("Station time is written as Foundation writes it, offset included, in zones ahead of and behind UTC by hours, half and quarter hours, and across their daylight saving",
          arguments: ["Asia/Ho_Chi_Minh", "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham", "Pacific/Kiritimati", "America/Los_Angeles"])
    func stationTimeAsFoundationWritesIt(zone: String) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        let calendar = StationCalendar(timeZone: timeZone)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = timeZone
        for instant in Self.instants(count: 5_000) {
            #expect(calendar.rfc3339(instant) == formatter.string(from: instant), "\(instant.timeIntervalSince1970)")
        }
    }

    @Test("UTC ends in Z; a station whose zone is UTC keeps its +00:00; an instant is rounded to the millisecond, across midnight and the year")
    func utcOffsetsAndRounding() throws {
        let instant = Date(timeIntervalSince1970: 1_794_478_500.004)
        #expect(RFC3339.string(instant, offsetSeconds: nil) == "2026-11-12T10:15:00.004Z")
        #expect(RFC3339.string(instant, offsetSeconds: 0) == "2026-11-12T10:15:00.004+00:00")
        #expect(StationCalendar(timeZone: try #require(TimeZone(identifier: "UTC"))).rfc3339(instant) == "2026-11-12T10:15:00.004+00:00")
        #expect(RFC3339.string(instant, offsetSeconds: 7 * 3600) == "2026-11-12T17:15:00.004+07:00")
        #expect(RFC3339.string(instant, offsetSeconds: -(3 * 3600 + 30 * 60)) == "2026-11-12T06:45:00.004-03:30")
        // 2026-12-31T16:59:59.9996Z is 23:59:59.9996 in Hanoi: the next year there.
        let lastMoment = Date(timeIntervalSince1970: 1_798_736_399.9996)
        #expect(RFC3339.string(lastMoment, offsetSeconds: 7 * 3600) == "2027-01-01T00:00:00.000+07:00")
        #expect(RFC3339.string(lastMoment, offsetSeconds: nil) == "2026-12-31T17:00:00.000Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: -0.001), offsetSeconds: nil) == "1969-12-31T23:59:59.999Z")
    }
}
