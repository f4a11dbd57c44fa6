import Foundation
import LoaCore
import Testing

@Suite("Reports")
struct ReportTests {
    let calendar = StationCalendar(timeZone: TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current)

    func day(_ text: String) -> LocalDate { LocalDate(parsing: text) ?? LocalDate(dayNumber: 0) }

    /// A row planned at 10:00 station time on `date`.
    func record(_ segment: String, _ pillar: Pillar?, _ outcome: AiringOutcome, _ seconds: Double, on date: String = "2026-11-12",
                kind: ItemKind = .segment, confirmed: OnAirConfirmation? = nil, planned: Double? = nil) -> AiringRecord {
        let t = calendar.instant(day(date), TimeOfDay(hour: 10, minute: 0) ?? .midnight)
        return AiringRecord(slot: "s", slotStartsAt: t, segmentID: segment, title: segment, pillar: pillar, path: segment,
                            scheduledAt: t, plannedSeconds: planned ?? seconds, airedSeconds: seconds, outcome: outcome,
                            kind: kind, confirmed: confirmed)
    }

    func build(_ records: [AiringRecord], from: String = "2026-11-12", to: String = "2026-11-12",
               by groupings: [ReportGrouping] = [.pillar], library: [Segment] = []) -> Report {
        ReportBuilder.build(station: "Xã Thử", records: records, calendar: calendar, from: day(from), to: day(to), by: groupings,
                            library: library)
    }

    @Test("Only completed rows are airings; truncated, interrupted, failed and skipped have their own columns; every pillar shows even at zero")
    func onlyCompletedCounts() throws {
        let report = build([
            record("a", .kinhTe, .completed, 60), record("b", .kinhTe, .truncated, 30, planned: 60),
            record("c", .chinhTriAnNinh, .failed, 0, planned: 45), record("d", .kinhTe, .skipped, 0, planned: 20),
            record("e", .kinhTe, .interrupted, 10, planned: 60),
        ])
        let kinhTe = try #require(report.tables[0].rows.first { $0.key == "kinh-te" })
        #expect(kinhTe.airings == 1 && kinhTe.items == 1 && kinhTe.truncated == 1 && kinhTe.interrupted == 1 && kinhTe.skipped == 1)
        #expect(kinhTe.airedSeconds == 100 && kinhTe.requestedSeconds == 200 && kinhTe.label == "Trụ cột Kinh tế")
        #expect(report.tables[0].rows.first { $0.key == "van-hoa-xa-hoi" }?.airings == 0)
        #expect(report.tables[0].rows.first { $0.key == "chinh-tri-an-ninh" }?.failed == 1)
        #expect(report.total.airings == 1 && report.total.requestedSeconds == 245)
    }

    @Test("A completed row of which nothing was heard (a near-empty file) is no airing: counted failed, no item, no airtime")
    func zeroSecondAiringNotCounted() throws {
        let report = build([record("rong", .kinhTe, .completed, 0, planned: 0.05), record("gan-rong", .kinhTe, .completed, 0.05),
                            record("tin", .kinhTe, .completed, 60)])
        let kinhTe = try #require(report.tables[0].rows.first { $0.key == "kinh-te" })
        #expect(kinhTe.airings == 1 && kinhTe.items == 1 && kinhTe.failed == 2, "\(kinhTe)")
        #expect(report.total.airings == 1 && report.total.items == 1)
    }

    @Test("Emergency bulletins count as airings and in their own column; jingles and announcements do not count")
    func emergencyJinglesAnnouncements() {
        let report = build([
            record("bao", nil, .completed, 40, kind: .emergency), record("tin", .kinhTe, .completed, 60),
            record("nhac", nil, .completed, 5, kind: .jingle), record("loa", nil, .completed, 20, kind: .announcement),
        ])
        #expect(report.total.airings == 2 && report.total.emergency == 1 && report.total.items == 2 && report.total.airedSeconds == 100)
    }

    @Test("Airings the monitor heard and found silent are counted apart")
    func confirmations() {
        let report = build([record("a", .kinhTe, .completed, 60, confirmed: .heard), record("a", .kinhTe, .completed, 60, confirmed: .silent),
                            record("a", .kinhTe, .completed, 60)])
        #expect(report.total.confirmedHeard == 1 && report.total.confirmedSilent == 1 && report.total.items == 1 && report.total.airings == 3)
    }

    @Test("Weeks are ISO weeks of the station's days: the last days of December can be week 53, and early January last year's")
    func isoWeeks() {
        let report = build([record("a", .kinhTe, .completed, 1, on: "2026-12-31"), record("a", .kinhTe, .completed, 1, on: "2027-01-01"),
                            record("a", .kinhTe, .completed, 1, on: "2027-01-04")],
                           from: "2026-12-28", to: "2027-01-04", by: [.week, .month])
        #expect(report.tables[0].rows.map(\.key) == ["2026-W53", "2027-W01"])
        #expect(report.tables[0].rows.map(\.airings) == [2, 1])
        #expect(report.tables[0].rows[0].label == "Tuần 53/2026 (28/12–03/01)")
        #expect(report.tables[1].rows.map(\.label) == ["Tháng 12/2026", "Tháng 1/2027"])
        #expect(report.tables[1].rows.map(\.airings) == [1, 2])
    }

    @Test("A segment asked for N a week is asked for N times each week of the period within its dates; a total is asked whole")
    func requests() {
        let weekly = Segment(id: "w", title: "Tuần", pillar: .kinhTe, path: "w.mp3", durationSeconds: 1,
                             origin: FeedOrigin(feed: "tinh", entry: "w", validFrom: day("2026-11-04"), requested: .perWeek(2)))
        let whole = Segment(id: "t", title: "Tổng", pillar: .kinhTe, path: "t.mp3", durationSeconds: 1,
                            origin: FeedOrigin(feed: "tinh", entry: "t", requested: .total(5)))
        let plain = Segment(id: "p", title: "Thường", pillar: .kinhTe, path: "p.mp3", durationSeconds: 1)
        // 1/11 to 30/11: weeks 44 to 49; from 4/11 on, weeks 45 to 49: five weeks.
        let report = build([record("w", .kinhTe, .completed, 1), record("w", .kinhTe, .failed, 0), record("t", .kinhTe, .completed, 1)],
                           from: "2026-11-01", to: "2026-11-30", library: [weekly, whole, plain])
        #expect(report.requests.map { "\($0.segment) \($0.requested) \($0.aired)" } == ["t 5 1", "w 10 1"])
    }

    @Test("The chart counts completed airings per month and pillar, every month of the period, zeros included")
    func chart() {
        let report = build([record("a", .kinhTe, .completed, 1, on: "2026-11-12"), record("b", nil, .completed, 1, on: "2026-12-01"),
                            record("c", .kinhTe, .truncated, 1, on: "2026-12-01")],
                           from: "2026-10-31", to: "2026-12-01")
        #expect(report.chart.filter { $0.airings > 0 }.map { "\($0.month) \($0.pillar) \($0.airings)" } == ["2026-11 kinh-te 1", "2026-12 khac 1"])
        #expect(report.chart.count == 3 * 4)
    }

    @Test("Titles sort as Vietnamese: a letter before its marks, đ after d")
    func vietnameseOrder() {
        let titles = ["Tuần lễ", "Đường làng", "Tổng kết", "Dân số", "Ánh sáng", "Bão lũ"]
        #expect(titles.sorted { vietnameseSortKey($0) < vietnameseSortKey($1) } == ["Ánh sáng", "Bão lũ", "Dân số", "Đường làng", "Tổng kết", "Tuần lễ"])
    }

    @Test("Airtime reads as h:mm:ss")
    func durations() {
        #expect(clockDuration(0) == "0:00:00" && clockDuration(45.4) == "0:00:45" && clockDuration(3723) == "1:02:03")
        #expect(clockDuration(36_000 * 10) == "100:00:00")
    }
}
