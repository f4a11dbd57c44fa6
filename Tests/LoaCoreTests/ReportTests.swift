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

    /// `record` as row `id`, continuing row `continues` from `from` seconds into its file.
    func stretch(_ record: AiringRecord, id: Int64, continues: Int64? = nil, from: Double = 0, station: String? = nil) -> AiringRecord {
        var record = record
        record.id = id
        record.continues = continues
        record.fromSeconds = from
        record.station = station
        return record
    }

    @Test("An item cut and resumed counts once: its stretches are one airing when any was heard, their seconds summed, its plan counted once")
    func stretchesCountOnce() throws {
        let report = build([
            stretch(record("a", .kinhTe, .interrupted, 3.5, planned: 12), id: 1),
            stretch(record("loa", nil, .completed, 2, kind: .announcement), id: 2),
            stretch(record("a", .kinhTe, .completed, 6.5, confirmed: .heard, planned: 12), id: 3, continues: 1, from: 5.5),
            // Cut twice: three stretches, the last cut at the hard end.
            stretch(record("b", .kinhTe, .interrupted, 2, planned: 20), id: 4),
            stretch(record("b", .kinhTe, .interrupted, 3, planned: 20), id: 5, continues: 4, from: 4),
            stretch(record("b", .kinhTe, .truncated, 9, planned: 20), id: 6, continues: 5, from: 9),
            // Cut and never heard again: interrupted, once.
            stretch(record("c", .kinhTe, .interrupted, 1, planned: 30), id: 7),
            stretch(record("c", .kinhTe, .skipped, 0, planned: 30), id: 8, continues: 7, from: 1),
        ])
        let kinhTe = try #require(report.tables[0].rows.first { $0.key == "kinh-te" })
        #expect(kinhTe.airings == 1 && kinhTe.truncated == 1 && kinhTe.interrupted == 1 && kinhTe.skipped == 0, "\(kinhTe)")
        #expect(kinhTe.confirmedHeard == 1 && kinhTe.items == 1)
        #expect(kinhTe.airedSeconds == 3.5 + 6.5 + 2 + 3 + 9 + 1 && kinhTe.requestedSeconds == 12 + 20 + 30, "\(kinhTe)")
        #expect(report.total.airings == 1 && report.total.interrupted == 1)
    }

    @Test("Stretches are joined whatever order the rows come in (an export is in chain order), and only within their station")
    func stretchesJoinedInAnyOrderPerStation() throws {
        let first = stretch(record("a", .kinhTe, .interrupted, 3, planned: 12), id: 10, station: "Xã A")
        let resumed = stretch(record("a", .kinhTe, .completed, 9, planned: 12), id: 12, continues: 10, from: 3, station: "Xã A")
        // Another commune's row 12 continuing its own row 10, which it has not exported.
        let other = stretch(record("a", .kinhTe, .completed, 12), id: 12, continues: 10, station: "Xã B")
        let later = stretch(record("d", .kinhTe, .completed, 5, on: "2026-11-13"), id: 11, station: "Xã A")
        let report = build([later, resumed, other, first], to: "2026-11-13")
        #expect(report.total.airings == 3 && report.total.interrupted == 0, "\(report.total)")
        #expect(report.total.airedSeconds == 3 + 9 + 12 + 5 && report.total.requestedSeconds == 12 + 12 + 5)
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
