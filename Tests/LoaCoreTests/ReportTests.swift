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

    /// The rows of one relay occurrence of `source` on 2026-11-12 in slot `slot` at `hour`: the relay's row (kind
    /// `relay`, segment `relay:NAME`) and its fallback's rows (segments or jingles with a `relay.*` code).
    typealias FallbackRow = (segment: String, pillar: Pillar?, kind: ItemKind, outcome: AiringOutcome, seconds: Double, code: ReasonCode)

    func relayOccurrence(_ slot: String, _ source: String, hour: Int, planned: Double, relayed: Double, fallback: [FallbackRow] = [],
                         outcome: AiringOutcome = .completed) -> [AiringRecord] {
        let start = calendar.instant(day("2026-11-12"), TimeOfDay(hour: hour, minute: 0) ?? .midnight)
        let item = Planner.relaySegment(source: source, seconds: planned)
        var rows = [AiringRecord(slot: slot, slotStartsAt: start, segmentID: item.id, title: item.title, path: item.path,
                                 scheduledAt: start, plannedSeconds: planned, airedSeconds: relayed, outcome: outcome, kind: .relay)]
        for (n, row) in fallback.enumerated() {
            let at = start.addingTimeInterval(Double(60 * (n + 1)))
            rows.append(AiringRecord(slot: slot, slotStartsAt: start, segmentID: row.segment, title: row.segment, pillar: row.pillar,
                                     path: row.segment, scheduledAt: at, plannedSeconds: row.seconds, airedSeconds: row.seconds,
                                     outcome: row.outcome, reasonCode: row.code, kind: row.kind))
        }
        return rows
    }

    @Test("Relays count per source apart from bulletins: occurrences, seconds planned, relayed and of fallback; a relay row is never an airing, an item or airtime of a bulletin")
    func relayAirtime() throws {
        let morning: [FallbackRow] = [
            ("nhac-hieu", nil, .jingle, .completed, 30, .relayStalled), ("tin-b", .kinhTe, .segment, .completed, 90, .relayStalled),
            ("tin-c", .kinhTe, .segment, .truncated, 30, .relayReturned),
        ]
        let evening: [FallbackRow] = [("tin-b", .kinhTe, .segment, .completed, 90, .relayUnreachable)]
        let records = [record("tin", .kinhTe, .completed, 60)]
            + relayOccurrence("vov-sang", "vov1", hour: 6, planned: 1800, relayed: 1650, fallback: morning)
            + relayOccurrence("vov-trua", "vov1", hour: 11, planned: 1800, relayed: 1800)
            + relayOccurrence("tinh-toi", "tinh", hour: 19, planned: 600, relayed: 0, fallback: evening, outcome: .failed)
        let sources = [UpstreamSource(name: "tinh", label: "Đài PT-TH tỉnh", input: .stream(url: "http://x/tinh.mp3")),
                       UpstreamSource(name: "may-thu", input: .capture(device: "hw:1")),
                       UpstreamSource(name: "vov1", label: "VOV1", input: .stream(url: "https://x/vov1.m3u8"))]
        let report = ReportBuilder.build(station: "Xã Thử", records: records, calendar: calendar, from: day("2026-11-12"),
                                         to: day("2026-11-12"), by: [.pillar, .segment], sources: sources)
        // loa.toml's sources in its order, a source with no relay at zero.
        #expect(report.relays == [
            RelayAirtime(source: "tinh", label: "Đài PT-TH tỉnh", occurrences: 1, plannedSeconds: 600, relayedSeconds: 0, fallbackSeconds: 90),
            RelayAirtime(source: "may-thu", label: "may-thu"),
            RelayAirtime(source: "vov1", label: "VOV1", occurrences: 2, plannedSeconds: 3600, relayedSeconds: 3450, fallbackSeconds: 150),
        ])
        // Bulletins: `tin`, and the fallback's segments heard (two of tin-b, tin-c cut); no relay among them.
        #expect(report.total.airings == 3 && report.total.items == 2 && report.total.truncated == 1 && report.total.failed == 0)
        #expect(report.total.airedSeconds == 60 + 90 + 30 + 90 && report.total.requestedSeconds == 60 + 90 + 30 + 90)
        #expect(!report.tables[1].rows.contains { $0.key.hasPrefix("relay:") })
        #expect(report.tables[0].rows.first { $0.key == "khac" } == nil)
        // A source no longer in loa.toml is still counted, under its name; a campaign's report has no relays.
        let bare = ReportBuilder.build(station: "Xã Thử", records: records, calendar: calendar, from: day("2026-11-12"),
                                       to: day("2026-11-12"), by: [.pillar])
        #expect(bare.relays.map(\.source) == ["tinh", "vov1"] && bare.relays.map(\.label) == ["tinh", "vov1"])
        #expect(ReportBuilder.build(station: "Xã Thử", records: records, calendar: calendar, from: day("2026-11-12"),
                                    to: day("2026-11-12"), by: [.pillar], campaign: "HNCC", sources: sources).relays.isEmpty)
    }

    @Test("A relay preempted and resumed (two stretches) counts one occurrence, its plan once and the seconds of both")
    func relayStretches() {
        var first = relayOccurrence("vov-sang", "vov1", hour: 6, planned: 1800, relayed: 600, outcome: .interrupted)[0]
        first.id = 7
        var second = first.stretch(fromSeconds: 640)
        second.id = 9
        second.outcome = .completed
        second.airedSeconds = 1150
        let report = ReportBuilder.build(station: "Xã Thử", records: [first, second], calendar: calendar, from: day("2026-11-12"),
                                         to: day("2026-11-12"), by: [.pillar])
        #expect(report.relays == [RelayAirtime(source: "vov1", label: "vov1", occurrences: 1, plannedSeconds: 1800, relayedSeconds: 1750)])
        #expect(report.total.airings == 0 && report.total.interrupted == 0)
    }

    @Test("CSV and HTML give each source's relays a line and a table of their own, beside the bulletins and out of their total")
    func relayDocuments() {
        let silent: [FallbackRow] = [("tin-b", .kinhTe, .segment, .completed, 150, .relaySilent)]
        let records = [record("tin", .kinhTe, .completed, 60)]
            + relayOccurrence("vov-sang", "vov1", hour: 6, planned: 1800, relayed: 1650, fallback: silent)
        let report = ReportBuilder.build(station: "Xã Thử", records: records, calendar: calendar, from: day("2026-11-12"),
                                         to: day("2026-11-12"), by: [.pillar],
                                         sources: [UpstreamSource(name: "vov1", label: "VOV1", input: .stream(url: "http://x/v.mp3"))])
        let lines = ReportDocuments.csv([report]).dropFirst().split(separator: "\r\n").map(String.init)
        #expect(lines[0].hasSuffix("Thời lượng phát (giây),Thời lượng yêu cầu (giây),Thời lượng phát dự phòng (giây)"), "\(lines[0])")
        #expect(lines.dropLast().last == "Xã Thử,2026-11-12,2026-11-12,Tiếp sóng,vov1,VOV1,,1,0:27:30,0:30:00,,,,,,,,1650,1800,150")
        #expect(lines.last == "Xã Thử,2026-11-12,2026-11-12,Tổng cộng,total,Tổng cộng,2,2,0:03:30,0:03:30,0,0,0,0,0,0,0,210,210,")
        let html = ReportDocuments.html([report])
        #expect(html.contains("<h3>Thời lượng tiếp sóng</h3>\n<table>\n<tr><th>Nguồn tiếp sóng</th><th>Số lượt tiếp sóng</th><th>Thời lượng kế hoạch</th><th>Thời lượng tiếp sóng</th><th>Thời lượng phát dự phòng</th></tr>\n<tr><td>VOV1</td><td class=\"n\">1</td><td class=\"n\">0:30:00</td><td class=\"n\">0:27:30</td><td class=\"n\">0:02:30</td></tr>\n</table>"))
        // A station without sources or relays: no relay table.
        #expect(!ReportDocuments.html([build([record("tin", .kinhTe, .completed, 60)])]).contains("tiếp sóng"))
    }
}
