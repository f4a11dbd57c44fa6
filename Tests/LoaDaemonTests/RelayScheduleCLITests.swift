import Foundation
import LoaCore
import LoaStore
import Testing

/// Relay slots (tiếp sóng) through the real binary: `[[source]]`s in loa.toml, `schedule validate`, `add`/`edit
/// --relay`, `list`, `show` and the week grid.
@Suite("loa schedule with relay slots, as processes")
struct RelayScheduleCLITests {
    /// A station with two sources (VOV1 by URL, a receiver on the line input), two imported files and one relay slot.
    func station() async throws -> (ProcessStation, schedule: URL) {
        let station = try ProcessStation(device: "null")
        try """

        [[source]]
        name = "vov1"
        label = "VOV1"
        url = "https://luong.example.vn/vov1/playlist.m3u8"

        [[source]]
        name = "may-thu"
        capture = "plughw:1,0"

        """.appendLine(to: URL(fileURLWithPath: station.config))
        for (name, frequency) in [("a.wav", 440), ("b.wav", 660)] {
            try Harness.sineWAV(station.audio.appendingPathComponent(name), frequency: frequency, seconds: 0.3, rate: 48000)
            let added = try await station.loaCommand(["segment", "add", station.audio.appendingPathComponent(name).path, "--title", name])
            guard added.status == 0 else { throw HarnessError("segment add: \(added.err)") }
        }
        let schedule = station.schedules.appendingPathComponent("lich.toml")
        try """
        # Thời sự VOV buổi sáng.
        [[slot]]
        id = "vov-sang"
        start = "06:00"
        end = "06:30"
        relay = "vov1"   # tiếp sóng VOV1
        fallback = ["a.wav", "b.wav"]

        [[slot]]
        id = "toi"
        start = "19:00"
        play = ["a.wav"]

        """.write(to: schedule, atomically: true, encoding: .utf8)
        return (station, schedule)
    }

    @Test("validate: a relay of a source not in loa.toml is an error at its line naming the sources there are; a missing fallback file an error; no fallback a warning with exit 0")
    func validate() async throws {
        let (station, schedule) = try await station()
        var r = try await station.loaCommand(["schedule", "validate"])
        #expect(r.status == 0 && r.err.isEmpty && r.out.contains("2 khung giờ trong 1 tệp"), "\(r.out)\(r.err)")

        let text = try String(contentsOf: schedule, encoding: .utf8)
        try text.replacingOccurrences(of: "relay = \"vov1\"", with: "relay = \"vov2\"")
            .replacingOccurrences(of: "\"b.wav\"]", with: "\"thieu.wav\"]").write(to: schedule, atomically: true, encoding: .utf8)
        r = try await station.loaCommand(["schedule", "validate"])
        #expect(r.status == 1)
        #expect(r.err.components(separatedBy: "\n").filter { !$0.isEmpty } == [
            "schedules/lich.toml:6: nguồn tiếp sóng “vov2” không có trong loa.toml (các nguồn có: vov1, may-thu)",
            "schedules/lich.toml:7: không tìm thấy tệp “thieu.wav” trong thư mục audio, cũng không có bản tin mã này trong thư viện",
            "loa: 2 lỗi trong lịch phát",
        ], "\(r.err)")

        try text.replacingOccurrences(of: "fallback = [\"a.wav\", \"b.wav\"]\n", with: "").write(to: schedule, atomically: true, encoding: .utf8)
        r = try await station.loaCommand(["schedule", "validate"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err == "schedules/lich.toml:6: cảnh báo: khung giờ tiếp sóng “vov-sang” không có “fallback” hay “fallback_pillar”: "
                + "khi mất nguồn “vov1” loa sẽ im lặng cho đến khi nguồn có tiếng lại\n", "\(r.err)")
    }

    @Test("add --relay and edit --relay/--fallback/--fallback-pillar write only their lines; a relay of an unknown source, without an end, or beside --play is refused and nothing written")
    func addAndEdit() async throws {
        let (station, schedule) = try await station()
        let before = try String(contentsOf: schedule, encoding: .utf8)
        var r = try await station.loaCommand(["schedule", "add", "tinh-trua", "--start", "11:00", "--end", "11:30", "--relay", "may-thu",
                                              "--fallback", "a.wav"])
        #expect(r.status == 0 && r.out.hasPrefix("Đã thêm khung giờ “tinh-trua” vào schedules/lich.toml:14"), "\(r.out)\(r.err)")
        #expect(r.err.isEmpty, "\(r.err)")
        #expect(try String(contentsOf: schedule, encoding: .utf8) == before + """

            [[slot]]
            id = "tinh-trua"
            start = "11:00"
            end = "11:30"
            relay = "may-thu"
            fallback = "a.wav"

            """)

        // A play slot becomes a relay in the place of its play line; its fallback pillars replace a fallback list.
        r = try await station.loaCommand(["schedule", "edit", "toi", "--relay", "vov1", "--end", "19:30", "--fallback-pillar", "kinh-te"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        r = try await station.loaCommand(["schedule", "edit", "vov-sang", "--fallback-pillar", "kinh-te", "van-hoa-xa-hoi"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        let edited = try String(contentsOf: schedule, encoding: .utf8)
        #expect(edited.contains("""
            id = "vov-sang"
            start = "06:00"
            end = "06:30"
            relay = "vov1"   # tiếp sóng VOV1
            fallback_pillar = ["kinh-te", "van-hoa-xa-hoi"]

            [[slot]]
            id = "toi"
            start = "19:00"
            relay = "vov1"
            end = "19:30"
            fallback_pillar = ["kinh-te"]

            """), "\(edited)")
        // Back to a play list: the relay's keys go.
        r = try await station.loaCommand(["schedule", "edit", "toi", "--play", "a.wav", "--clear", "end"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        // Without a fallback: written, and warned of.
        r = try await station.loaCommand(["schedule", "edit", "vov-sang", "--clear", "fallback_pillar"])
        #expect(r.status == 0 && r.err.contains("loa: ⚠ schedules/lich.toml:6: khung giờ tiếp sóng “vov-sang” không có “fallback”"), "\(r.err)")
        r = try await station.loaCommand(["schedule", "edit", "vov-sang", "--fallback", "a.wav", "b.wav"])
        #expect(r.status == 0 && r.err.isEmpty, "\(r.err)")
        r = try await station.loaCommand(["schedule", "remove", "tinh-trua"])
        #expect(r.status == 0, "\(r.err)")
        #expect(try String(contentsOf: schedule, encoding: .utf8) == before)

        for (arguments, message) in [
            (["schedule", "add", "x", "--start", "12:00", "--end", "12:30", "--relay", "vov2"],
             "schedules/lich.toml:18 (--relay): nguồn tiếp sóng “vov2” không có trong loa.toml (các nguồn có: vov1, may-thu)"),
            (["schedule", "add", "x", "--start", "12:00", "--relay", "vov1"],
             "schedules/lich.toml:17 (--relay): khung giờ tiếp sóng cần giờ kết thúc “end”: luồng trực tiếp không tự hết"),
            (["schedule", "add", "x", "--start", "12:00", "--end", "12:30", "--relay", "vov1", "--play", "a.wav"],
             "loa: chỉ dùng một trong ba: --play (danh sách tệp), --pillar (chọn theo trụ cột) hoặc --relay (tiếp sóng); đã cho --play và --relay"),
            (["schedule", "edit", "vov-sang", "--fallback", "a.wav", "--fallback-pillar", "kinh-te"],
             "loa: chỉ dùng một trong hai: --fallback (tệp hoặc mã bản tin, phát lặp) hoặc --fallback-pillar (chọn theo trụ cột)"),
            (["schedule", "edit", "toi", "--fallback", "a.wav"],
             "schedules/lich.toml:13 (--fallback): “fallback” chỉ dùng trong khung giờ tiếp sóng (có “relay = \"tên nguồn\"”)"),
        ] {
            let refused = try await station.loaCommand(arguments)
            #expect(refused.status == 1 && refused.err.hasPrefix(message), "\(arguments): \(refused.err)")
            #expect(try String(contentsOf: schedule, encoding: .utf8) == before, "\(arguments)")
        }
    }

    @Test("list (text and --json), show (text and --json) and the week grid show the relay, its source's label and URL, and its fallback loop")
    func listAndShow() async throws {
        let (station, _) = try await station()
        var r = try await station.loaCommand(["schedule", "list"])
        #expect(r.status == 0 && r.out.contains("tiếp sóng VOV1 (vov1); dự phòng: a.wav, b.wav"), "\(r.out)\(r.err)")
        r = try await station.loaCommand(["schedule", "list", "--json"])
        struct Listed: Decodable { let id: String, relay: String?, fallback: [String]?, fallback_pillar: [String]?, play: [String]? }
        let listed = try JSONDecoder().decode([Listed].self, from: Data(r.out.utf8))
        #expect(listed.map(\.id) == ["vov-sang", "toi"])
        #expect(listed[0].relay == "vov1" && listed[0].fallback == ["a.wav", "b.wav"] && listed[0].play == nil && listed[0].fallback_pillar == nil)
        #expect(listed[1].relay == nil && listed[1].fallback == nil && listed[1].play == ["a.wav"])

        r = try await station.loaCommand(["schedule", "show", "--date", "2026-11-27"])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.components(separatedBy: "\n")
        let at = try #require(lines.firstIndex(of: "06:00:00–06:30:00  vov-sang"), "\(r.out)")
        #expect(Array(lines[(at + 1)...(at + 5)]) == [
            "  06:00:00  Tiếp sóng VOV1  [tiếp sóng]  30:00",
            "            nguồn “vov1”: https://luong.example.vn/vov1/playlist.m3u8",
            "  Dự phòng khi mất nguồn (phát lặp theo thứ tự):",
            "    a.wav  [nhạc hiệu]  0,3 giây",
            "    b.wav  [nhạc hiệu]  0,3 giây",
        ], "\(r.out)")

        r = try await station.loaCommand(["schedule", "show", "--date", "2026-11-27", "--json"])
        struct Item: Decodable { let segment: String, title: String, kind: String, starts_at: String, ends_at: String }
        struct Fallback: Decodable { let segment: String, title: String }
        struct Relay: Decodable { let source: String, label: String?, url: String?, capture: String?, fallback: [Fallback] }
        struct Planned: Decodable { let slot: String, items: [Item], relay: Relay? }
        struct Plan: Decodable { let slots: [Planned] }
        let plan = try JSONDecoder().decode(Plan.self, from: Data(r.out.utf8))
        let relay = try #require(plan.slots.first { $0.slot == "vov-sang" })
        #expect(relay.items.map(\.kind) == ["relay"] && relay.items[0].segment == "relay:vov1" && relay.items[0].title == "Tiếp sóng VOV1")
        #expect(relay.items[0].starts_at.hasPrefix("2026-11-27T06:00:00") && relay.items[0].ends_at.hasPrefix("2026-11-27T06:30:00"), "\(relay.items)")
        #expect(relay.relay?.source == "vov1" && relay.relay?.label == "VOV1" && relay.relay?.capture == nil
                && relay.relay?.url == "https://luong.example.vn/vov1/playlist.m3u8")
        #expect(relay.relay?.fallback.map(\.title) == ["a.wav", "b.wav"])
        #expect(plan.slots.first { $0.slot == "toi" }?.relay == nil)

        r = try await station.loaCommand(["schedule", "show", "--week", "--date", "2026-11-27"])
        #expect(r.status == 0, "\(r.err)")
        let grid = r.out.components(separatedBy: "\n")
        let row = try #require(grid.firstIndex { $0.hasPrefix("06:00–06:30") }, "\(r.out)")
        func cells(_ line: String) -> [String] { line.split(separator: "│").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(cells(grid[row]) == Array(repeating: "⇄ Tiếp sóng", count: 7), "\(r.out)")
        #expect(cells(grid[row + 1]) == Array(repeating: "VOV1", count: 7), "\(r.out)")
    }
}
