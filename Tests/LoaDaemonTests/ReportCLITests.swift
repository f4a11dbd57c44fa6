import Foundation
import LoaCore
import LoaStore
import Testing

/// `loa simulate` writes six weeks of a known schedule; `loa report` over November is checked against figures
/// worked out by hand from the schedule below (not from the code's own output).
///
/// Library: `a` (60 s, kinh-te, category “Kinh tế nông nghiệp”), `b1`/`b2` (45 s each, chinh-tri-an-ninh,
/// “An ninh trật tự”), `c` (30 s, van-hoa-xa-hoi, campaign “HNCC ASEAN 37”, asked for 3 airings a week, valid
/// 12–15/11). Slots, station time (UTC+7):
/// - `sang` daily 06:00, plays `a`: before 07:00 it is the previous day in UTC, so days, weeks and months
///   must be the station's;
/// - `toi` Monday to Friday 19:00, picks one of `b1`/`b2`;
/// - `hncc` 06:10 from 12/11 until 15/11, plays `c` then `thieu.mp3`, which is not in the library (a `failed` row).
/// November 2026 starts on a Sunday and has 21 weekdays: `a` 30 airings (1800 s), `b` 21 (945 s), `c` 4 (120 s):
/// 55 airings, 4 items, 2865 s. ISO weeks: W44 holds only Sunday 1/11 (`a`); W45, W47, W48 twelve (7 `a` + 5 `b`);
/// W46 sixteen (with `c`; 765 s); W49 only Monday 30/11, two (`a` at 06:00, `b`). The simulation's 26/10–31/10
/// (Monday to Saturday) airs 6 `a` and 5 `b`; 1/12–6/12 (Tuesday to Sunday) 6 `a` and 4 `b`.
@Suite("loa simulate and loa report as processes")
struct ReportCLITests {
    static func simulatedStation() async throws -> ProcessStation {
        let station = try ProcessStation(device: "null")
        let database = try StationDatabase(path: station.folder.appendingPathComponent("loa.sqlite"))
        let library = SegmentLibrary(database)
        let imported = Date(timeIntervalSince1970: 1_790_000_000)
        var made = 0
        func segment(_ id: String, _ title: String, _ pillar: Pillar, _ seconds: Double, category: String? = nil,
                     campaign: String? = nil, requested: RequestedAirings? = nil, from: String? = nil, until: String? = nil) -> Segment {
            made += 1
            return Segment(id: id, title: title, pillar: pillar, campaign: campaign, path: "\(id).mp3", durationSeconds: seconds,
                    sha256: String(repeating: "0", count: 62) + hexText([UInt8(made)]),
                    origin: FeedOrigin(feed: "tinh", entry: id, category: category, validFrom: from.flatMap(LocalDate.init(parsing:)),
                                       validUntil: until.flatMap(LocalDate.init(parsing:)), requested: requested))
        }
        try library.install(segment("a", "Giá lúa vụ mùa", .kinhTe, 60, category: "Kinh tế nông nghiệp"), importedAt: imported)
        try library.install(segment("b1", "Phòng chống tội phạm", .chinhTriAnNinh, 45, category: "An ninh trật tự"), importedAt: imported)
        try library.install(segment("b2", "An toàn giao thông", .chinhTriAnNinh, 45, category: "An ninh trật tự"), importedAt: imported)
        try library.install(segment("c", "Hội nghị Cấp cao ASEAN 37", .vanHoaXaHoi, 30, campaign: "HNCC ASEAN 37",
                                    requested: .perWeek(3), from: "2026-11-12", until: "2026-11-15"), importedAt: imported)
        try """
        [[slot]]
        id = "sang"
        start = "06:00"
        end = "06:05"
        play = ["a"]

        [[slot]]
        id = "hncc"
        start = "06:10"
        end = "06:15"
        from = 2026-11-12
        until = 2026-11-15
        play = ["c", "thieu.mp3"]

        [[slot]]
        id = "toi"
        start = "19:00"
        end = "19:05"
        days = "mon-fri"
        pillar = ["chinh-tri-an-ninh"]
        count = 1
        """.write(to: station.schedules.appendingPathComponent("thang.toml"), atomically: true, encoding: .utf8)
        let simulated = try await station.loaCommand(["simulate", "--from", "2026-10-26", "--to", "2026-12-06"])
        try #require(simulated.status == 0, "\(simulated.err)")
        return station
    }

    struct Row: Decodable {
        let key: String, label: String, items: Int, airings: Int, completed: Int, failed: Int, aired_seconds: Double
    }
    struct Table: Decodable { let by: String, rows: [Row] }
    struct Request: Decodable { let segment: String, per_week: Int?, requested: Int, aired: Int }
    struct Report: Decodable {
        let station: String, from: String, to: String, by: String, rows: [Row], total: Row, tables: [Table]
        let requests: [Request]
        func table(_ by: String) -> [String: Row] {
            Dictionary((tables.first { $0.by == by }?.rows ?? []).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        }
    }

    @Test("A simulated November reports the hand-computed airings, items and airtime by pillar, category, campaign, day, week and month in station time")
    func simulatedMonth() async throws {
        let station = try await Self.simulatedStation()
        let out = try await station.loaCommand(["report", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json",
                                          "--by", "pillar,category,campaign,segment,day,week,month"])
        try #require(out.status == 0, "\(out.err)")
        let report = try JSONDecoder().decode(Report.self, from: Data(out.out.utf8))
        #expect(report.station == "UBND xã Thử Nghiệm" && report.by == "pillar")
        #expect(report.total.airings == 55 && report.total.items == 4 && report.total.aired_seconds == 2865)
        // The campaign's second item is not in the library: four failed rows, none an airing.
        #expect(report.total.failed == 4 && report.total.completed == 55)
        let pillar = report.table("pillar")
        #expect(pillar["kinh-te"]?.airings == 30 && pillar["kinh-te"]?.aired_seconds == 1800)
        #expect(pillar["chinh-tri-an-ninh"]?.airings == 21 && pillar["chinh-tri-an-ninh"]?.items == 2)
        #expect(pillar["van-hoa-xa-hoi"]?.airings == 4 && pillar["van-hoa-xa-hoi"]?.label == "Trụ cột Văn hóa - Xã hội")
        let category = report.table("category")
        #expect(category["Kinh tế nông nghiệp"]?.airings == 30 && category["An ninh trật tự"]?.airings == 21)
        #expect(category[""]?.airings == 4 && category[""]?.label == "(không có lĩnh vực)")
        let campaign = report.table("campaign")
        #expect(campaign["HNCC ASEAN 37"]?.airings == 4 && campaign["HNCC ASEAN 37"]?.aired_seconds == 120)
        let week = report.table("week")
        #expect(["2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48", "2026-W49"].map { week[$0]?.airings } == [1, 12, 16, 12, 12, 2])
        #expect(week["2026-W46"]?.label == "Tuần 46/2026 (09/11–15/11)")
        let day = report.table("day")
        #expect(day.count == 30 && day["2026-11-01"]?.airings == 1 && day["2026-11-30"]?.airings == 2)
        #expect(day["2026-11-12"]?.airings == 3 && day["2026-11-12"]?.label == "Thứ Năm 12/11/2026")
        #expect(report.table("month")["2026-11"]?.airings == 55)
        #expect(report.table("segment")["b1"].map { $0.airings + (report.table("segment")["b2"]?.airings ?? 0) } == 21)
        // Asked for 3 a week while valid (12–15/11: one week); aired every day of it.
        #expect(report.requests.map { "\($0.segment) \($0.per_week ?? 0) \($0.requested) \($0.aired)" } == ["c 3 3 4"])

        // A campaign alone: its own days, 12–15/11.
        let only = try JSONDecoder().decode(Report.self, from: Data(try await station.loaCommand(
            ["report", "--campaign", "HNCC ASEAN 37", "--format", "json"]).out.utf8))
        #expect(only.from == "2026-11-12" && only.to == "2026-11-15" && only.total.airings == 4)
        // October's last week and December's first: months in station time.
        let months = try JSONDecoder().decode(Report.self, from: Data(try await station.loaCommand(
            ["report", "--from", "2026-10-26", "--to", "2026-12-06", "--by", "month", "--format", "json"]).out.utf8))
        #expect(["2026-10", "2026-11", "2026-12"].map { months.table("month")[$0]?.airings } == [6 + 5, 55, 6 + 4])
    }

    @Test("The report's CSV reads back in Python's csv module with its diacritics, and its HTML parses with a chart and a table per grouping")
    func csvAndHTMLReadBack() async throws {
        let station = try await Self.simulatedStation()
        let csv = station.folder.appendingPathComponent("bao-cao.csv"), html = station.folder.appendingPathComponent("bao-cao.html")
        let csvOut = try await station.loaCommand(["report", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv", "--by", "pillar,week",
                                             "--out", csv.path])
        try #require(csvOut.status == 0, "\(csvOut.err)")
        let read = try await Harness.run("/usr/bin/python3", ["-c", """
            import csv, json, sys
            raw = open(sys.argv[1], 'rb').read()
            assert raw.startswith(b'\\xef\\xbb\\xbf'), 'no byte-order mark'
            rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8-sig', newline='')))
            print(json.dumps([[r['Nhóm theo'], r['Tên'], r['Số lượt phát'], r['Thời lượng phát'], r['Đài']] for r in rows], ensure_ascii=False))
            """, csv.path])
        try #require(read.status == 0, "\(read.err)")
        let rows = try JSONDecoder().decode([[String]].self, from: Data(read.out.utf8))
        #expect(rows.contains(["Trụ cột", "Trụ cột Chính trị - An ninh", "21", "0:15:45", "UBND xã Thử Nghiệm"]))
        #expect(rows.contains(["Tuần", "Tuần 46/2026 (09/11–15/11)", "16", "0:12:45", "UBND xã Thử Nghiệm"]))
        #expect(rows.last == ["Tổng cộng", "Tổng cộng", "55", "0:47:45", "UBND xã Thử Nghiệm"])

        let htmlOut = try await station.loaCommand(["report", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "html", "--out", html.path])
        try #require(htmlOut.status == 0, "\(htmlOut.err)")
        let parsed = try await Harness.run("/usr/bin/python3", ["-c", """
            import json, sys
            from html.parser import HTMLParser
            class Page(HTMLParser):
                void = {'meta', 'br', 'img', 'link', 'input', 'hr'}
                def __init__(self):
                    super().__init__(); self.stack = []; self.tables = []; self.cell = None; self.rects = 0; self.headings = []; self.text = ''
                def handle_starttag(self, tag, attrs):
                    if tag in self.void: return
                    self.stack.append(tag)
                    if tag == 'table': self.tables.append([])
                    if tag == 'tr': self.tables[-1].append([])
                    if tag in ('td', 'th'): self.cell = ''
                    if tag == 'rect': self.rects += 1
                    if tag == 'h3': self.text = ''
                def handle_startendtag(self, tag, attrs):
                    if tag == 'rect': self.rects += 1
                def handle_endtag(self, tag):
                    if tag in self.void: return
                    assert self.stack and self.stack[-1] == tag, f'</{tag}> closes <{self.stack[-1] if self.stack else None}>'
                    self.stack.pop()
                    if tag in ('td', 'th'): self.tables[-1][-1].append(self.cell); self.cell = None
                    if tag == 'h3': self.headings.append(self.text)
                def handle_data(self, data):
                    if self.cell is not None: self.cell += data
                    self.text += data
            page = Page(); page.feed(open(sys.argv[1], encoding='utf-8').read()); page.close()
            assert not page.stack, f'unclosed {page.stack}'
            print(json.dumps({'tables': page.tables, 'rects': page.rects, 'headings': page.headings}, ensure_ascii=False))
            """, html.path])
        try #require(parsed.status == 0, "\(parsed.err)")
        struct Page: Decodable { let tables: [[[String]]], rects: Int, headings: [String] }
        let page = try JSONDecoder().decode(Page.self, from: Data(parsed.out.utf8))
        #expect(page.headings == ["Số liệu chính", "Số lượt phát theo tháng và trụ cột", "Theo trụ cột", "Theo lĩnh vực",
                                  "Theo chiến dịch", "Theo tháng", "Theo bản tin", "Yêu cầu của nơi gửi và số lượt đã phát"])
        // Main figures: items, airings, airtime, emergency airings, requested time.
        #expect(Array(page.tables[0][1].prefix(4)) == ["4", "55", "0:47:45", "0"])
        // One month, three pillars: three bars and three legend keys.
        #expect(page.rects == 6)
        #expect(page.tables[1].contains { $0.first == "Trụ cột Kinh tế" && $0.count > 2 && $0[2] == "30" })
        #expect(page.tables.last?.last == ["Hội nghị Cấp cao ASEAN 37", "tinh", "3 lượt mỗi tuần", "3", "4", "0"])
    }

    @Test("loa report counts relay airtime per source (rows written into the station's SQLite log) beside the bulletins, in table, CSV, JSON and HTML, and never as an airing")
    func relayAirtime() async throws {
        let station = try ProcessStation(device: "null")
        let config = URL(fileURLWithPath: station.config)
        try (String(contentsOf: config, encoding: .utf8)
             + "\n[[source]]\nname = \"vov1\"\nlabel = \"VOV1\"\nurl = \"https://luong.example.vn/vov1.m3u8\"\n")
            .write(to: config, atomically: true, encoding: .utf8)
        let log = AiringLog(try StationDatabase(path: station.folder.appendingPathComponent("loa.sqlite")))
        // 12/11/2026 06:00 station time: 30 min relayed for 27:30, a 45 s bulletin of the fallback (stall), 60 s of a
        // jingle of it cut when the upstream returned; a bulletin of its own at 07:00.
        let six = Date(timeIntervalSince1970: 1_794_438_000), seven = six.addingTimeInterval(3600)
        let relay = Planner.relaySegment(source: "vov1", seconds: 1800)
        func row(_ segment: String, _ title: String, kind: ItemKind, at: Date, planned: Double, aired: Double,
                 outcome: AiringOutcome = .completed, code: ReasonCode? = nil, slot: String = "vov-sang") -> AiringRecord {
            AiringRecord(slot: slot, slotStartsAt: slot == "vov-sang" ? six : at, segmentID: segment, title: title,
                         pillar: kind == .segment ? .kinhTe : nil, path: segment, scheduledAt: at, plannedSeconds: planned,
                         startedAt: at, endedAt: at.addingTimeInterval(aired), airedSeconds: aired, outcome: outcome,
                         reasonCode: code, device: "null", kind: kind, station: "UBND xã Thử Nghiệm")
        }
        try log.insert([
            row(relay.id, relay.title, kind: .relay, at: six, planned: 1800, aired: 1650),
            row("tin-b", "Giá lúa", kind: .segment, at: six.addingTimeInterval(300), planned: 45, aired: 45, code: .relayStalled),
            row("nhac-hieu", "Nhạc hiệu", kind: .jingle, at: six.addingTimeInterval(345), planned: 120, aired: 60,
                outcome: .truncated, code: .relayReturned),
            row("tin-a", "Tin xã", kind: .segment, at: seven, planned: 60, aired: 60, slot: "sang"),
        ])
        let day = ["--from", "2026-11-12", "--to", "2026-11-12"]
        var r = try await station.loaCommand(["report", "--format", "json"] + day)
        try #require(r.status == 0, "\(r.err)")
        struct Relay: Decodable, Equatable {
            let source: String, label: String, occurrences: Int, planned_seconds: Double, relayed_seconds: Double, fallback_seconds: Double
        }
        struct Relays: Decodable { let total: Row, relays: [Relay] }
        let json = try JSONDecoder().decode(Relays.self, from: Data(r.out.utf8))
        #expect(json.relays == [Relay(source: "vov1", label: "VOV1", occurrences: 1, planned_seconds: 1800, relayed_seconds: 1650,
                                      fallback_seconds: 105)])
        // Two bulletins aired (one of them the fallback's), 105 s: the relay is no airing, no item, no airtime of them.
        #expect(json.total.airings == 2 && json.total.items == 2 && json.total.aired_seconds == 105, "\(r.out)")

        r = try await station.loaCommand(["report"] + day)
        #expect(r.status == 0 && r.out.contains("Nguồn tiếp sóng  Số lượt tiếp sóng  Thời lượng kế hoạch  Thời lượng tiếp sóng  Thời lượng phát dự phòng"), "\(r.out)")
        #expect(r.out.hasSuffix("VOV1             1                  0:30:00              0:27:30               0:01:45\n"), "\(r.out)")

        let csv = station.folder.appendingPathComponent("tiep-song.csv")
        r = try await station.loaCommand(["report", "--format", "csv", "--out", csv.path] + day)
        try #require(r.status == 0, "\(r.err)")
        let read = try await Harness.run("/usr/bin/python3", ["-c", """
            import csv, json, sys
            rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8-sig', newline='')))
            print(json.dumps([[r['Nhóm theo'], r['Tên'], r['Số lượt phát'], r['Thời lượng phát'], r['Thời lượng phát dự phòng (giây)']] for r in rows], ensure_ascii=False))
            """, csv.path])
        try #require(read.status == 0, "\(read.err)")
        let rows = try JSONDecoder().decode([[String]].self, from: Data(read.out.utf8))
        #expect(rows.suffix(2) == [["Tiếp sóng", "VOV1", "1", "0:27:30", "105"], ["Tổng cộng", "Tổng cộng", "2", "0:01:45", ""]], "\(rows)")

        r = try await station.loaCommand(["report", "--format", "html"] + day)
        #expect(r.out.contains("<h3>Thời lượng tiếp sóng</h3>") && r.out.contains("<tr><td>VOV1</td><td class=\"n\">1</td>"), "\(r.out)")
    }

    @Test("loa simulate refuses a log that holds real airings, and a period before what it already simulated")
    func simulateProtectsEvidence() async throws {
        let station = try await Self.simulatedStation()
        let again = try await station.loaCommand(["simulate", "--from", "2026-11-01", "--to", "2026-11-02"])
        #expect(again.status == 1 && again.err.contains("đã có lượt phát mô phỏng đến"))
        let real = try ProcessStation(device: "null")
        let log = AiringLog(try StationDatabase(path: real.folder.appendingPathComponent("loa.sqlite")))
        let t = Date(timeIntervalSince1970: 1_794_478_500)
        try log.insert(AiringRecord(slot: "s", slotStartsAt: t, segmentID: "x", title: "x", path: "x.mp3", scheduledAt: t,
                                    outcome: .completed, device: "null"))
        let refused = try await real.loaCommand(["simulate", "--from", "2027-01-01", "--to", "2027-01-02"])
        #expect(refused.status == 1 && refused.err.contains("có lượt phát thật"))
        let elsewhere = try await real.loaCommand(["simulate", "--from", "2027-01-01", "--to", "2027-01-02", "--database",
                                             real.folder.appendingPathComponent("thu.sqlite").path])
        #expect(elsewhere.status == 0, "\(elsewhere.err)")
    }
}
