import Foundation
import LoaConfig
import LoaCore
import Testing

@Suite("Schedule files: parsing and validation with file:line")
struct ScheduleParserTests {
    func problems(_ text: String, file: String = "schedules/toi.toml") -> [String] {
        ScheduleParser.parse(text, file: file).problems.map(\.description)
    }

    @Test("A valid file gives its slots, with every field read")
    func validFile() throws {
        let text = """
        # Buổi tối
        title = "Chương trình tối"

        [[slot]]
        id = "asean-toi"
        start = "17:15"
        end = 17:30:00
        days = ["mon", "wed"]
        from = 2026-11-12
        until = "2026-11-15"
        pillar = ["kinh-te", "van-hoa-xa-hoi"]
        count = 2

        [[slot]]
        id = "tin-sang"
        start = "05:30:15"
        play = [
          "asean/rcep.mp3",
          "jingle.ogg",
        ]
        """
        let parsed = ScheduleParser.parse(text, file: "schedules/toi.toml")
        #expect(parsed.problems.isEmpty)
        try #require(parsed.slots.count == 2)
        let first = parsed.slots[0]
        #expect(first.id == "asean-toi")
        #expect(first.start.description == "17:15" && first.end?.description == "17:30")
        #expect(first.days.days == [.mon, .wed])
        #expect(first.from?.description == "2026-11-12" && first.until?.description == "2026-11-15")
        #expect(first.content == .pick(pillars: [.kinhTe, .vanHoaXaHoi], count: 2))
        #expect(first.source.description == "schedules/toi.toml:4")
        #expect(parsed.slots[1].content == .play(["asean/rcep.mp3", "jingle.ogg"]))
        #expect(parsed.slots[1].days == .daily)
        #expect(parsed.slots[1].location(of: "play").line == 17)
    }

    @Test("Unknown key: reported at its own line, with the key meant when it is a slip of the hand")
    func unknownKey() {
        let text = """
        [[slot]]
        id = "a"
        start = "17:00"
        colour = "red"
        play = ["x.mp3"]
        """
        #expect(problems(text) == ["schedules/toi.toml:4: khóa không hợp lệ “colour” (các khóa hợp lệ: id, title, start, end, days, from, until, pillar, count, play, relay, fallback, fallback_pillar, intro, outro, late, enabled)"])
        #expect(problems("[[slot]]\nid = \"a\"\nstart = \"17:00\"\nplay = [\"x.mp3\"]\nenabeld = false\n") == [
            "schedules/toi.toml:5: khóa không hợp lệ “enabeld”: có phải “enabled”? (các khóa hợp lệ: id, title, start, end, days, from, until, pillar, count, play, relay, fallback, fallback_pillar, intro, outro, late, enabled)",
        ])
    }

    @Test("A file saved with CRLF line ends (Windows Notepad) reports each problem at its own line")
    func crlfLines() {
        let text = "# Lịch sáng\r\n[[slot]]\r\nid = \"a\"\r\nstart = \"25:00\"\r\nplay = [\"x.mp3\"]\r\n\r\n[[slot]]\r\nid = \"b\"\r\nstart = \"06:00\"\r\ncolour = \"red\"\r\nplay = [\"x.mp3\"]\r\n"
        let found = problems(text)
        #expect(found.count == 2)
        #expect(found.contains { $0.hasPrefix("schedules/toi.toml:4: giờ không hợp lệ") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("schedules/toi.toml:10: khóa không hợp lệ “colour”") }, "\(found)")
    }

    @Test("A play, intro or outro entry outside the audio folder (.. or an absolute path) is refused at its line")
    func outsideAudio() {
        let text = """
        [[slot]]
        id = "a"
        start = "17:00"
        play = ["tin.mp3", "../x.mp3"]

        [[slot]]
        id = "b"
        start = "18:00"
        intro = "/etc/passwd"
        play = ["asean/../../y.mp3"]

        [[slot]]
        id = "c"
        start = "19:00"
        play = ["asean/tin..mp3", "nhac-hieu"]
        """
        let found = problems(text)
        #expect(found.count == 3, "\(found)")
        #expect(found.contains { $0.hasPrefix("schedules/toi.toml:4: “../x.mp3” ra ngoài thư mục audio") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("schedules/toi.toml:9: “/etc/passwd” ra ngoài thư mục audio") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("schedules/toi.toml:10: “asean/../../y.mp3” ra ngoài thư mục audio") }, "\(found)")
    }

    @Test("Bad time: reported at the start or end line")
    func badTime() {
        let text = """
        [[slot]]
        id = "a"
        start = "17:00"
        end = "17:00"
        play = ["x.mp3"]

        [[slot]]
        id = "b"
        start = "25:00"
        play = ["x.mp3"]
        """
        let found = problems(text)
        #expect(found.count == 2)
        #expect(found.contains("schedules/toi.toml:4: giờ kết thúc 17:00 không sau giờ bắt đầu 17:00"))
        #expect(found.contains { $0.hasPrefix("schedules/toi.toml:9: giờ không hợp lệ") })
    }

    @Test("End before start: reported at the end line")
    func endBeforeStart() {
        let text = """
        # comment
        [[slot]]
        id = "a"
        start = "17:30"

        end = "17:15"
        play = ["x.mp3"]
        """
        #expect(problems(text) == ["schedules/toi.toml:6: giờ kết thúc 17:15 không sau giờ bắt đầu 17:30"])
    }

    @Test("Unknown pillar: reported at the pillar line, naming the valid slugs")
    func unknownPillar() {
        let text = """
        [[slot]]
        id = "a"
        start = "06:00"
        pillar = ["kinh-te", "the-thao"]
        """
        #expect(problems(text) == ["schedules/toi.toml:4: trụ cột không hợp lệ “the-thao” (chọn: chinh-tri-an-ninh, kinh-te, van-hoa-xa-hoi)"])
    }

    @Test("TOML syntax errors give the line and column TOMLKit found, in Vietnamese with what to do, TOMLKit's words in parentheses")
    func syntaxError() {
        let text = """
        [[slot]]
        id = "a"
        start = "06:00
        """
        #expect(problems(text) == ["schedules/toi.toml:3:15: cú pháp TOML sai (Error while parsing string: encountered end-of-file): "
                                   + "chuỗi chưa đóng: thêm dấu ngoặc kép \" ở cuối giá trị (một chuỗi phải nằm trọn trên một dòng)"])
    }

    @Test("Missing id, start and content are each reported at the slot header")
    func missingRequired() {
        let text = """
        title = "x"

        [[slot]]
        days = "daily"
        """
        let found = problems(text)
        #expect(found.contains("schedules/toi.toml:3: khung giờ thiếu “id”"))
        #expect(found.contains("schedules/toi.toml:3: khung giờ thiếu giờ bắt đầu “start”"))
        #expect(found.contains { $0.hasPrefix("schedules/toi.toml:3: khung giờ không có nội dung") })
    }

    @Test("Bad days and dates are reported at their lines")
    func badDaysAndDates() {
        let text = """
        [[slot]]
        id = "a"
        start = "06:00"
        days = "weekdays"
        from = "12/11/2026"
        play = ["x.mp3"]
        """
        let found = problems(text)
        #expect(found.contains { $0.hasPrefix("schedules/toi.toml:4: ngày phát không hợp lệ") })
        #expect(found.contains { $0.hasPrefix("schedules/toi.toml:5: ngày không hợp lệ") })
    }

    @Test("Overlapping slots across files: reported at each of the two, naming the other")
    func overlappingSlots() {
        let a = ScheduleParser.parse("""
        [[slot]]
        id = "toi"
        start = "17:00"
        end = "17:30"
        days = "mon-fri"
        play = ["x.mp3"]
        """, file: "schedules/a.toml").slots
        let b = ScheduleParser.parse("""
        # weekend only: no clash
        [[slot]]
        id = "cuoi-tuan"
        start = "17:10"
        end = "17:40"
        days = ["sat", "sun"]
        play = ["x.mp3"]

        [[slot]]
        id = "thu-tu"
        start = "17:29:59"
        end = "17:45"
        days = "wed"
        play = ["x.mp3"]

        [[slot]]
        id = "sau"
        start = "17:30"
        end = "17:45"
        days = "fri"
        play = ["x.mp3"]
        """, file: "schedules/b.toml").slots
        let found = ScheduleValidator { _ in true }.validate(a + b).map(\.description)
        #expect(found == ["schedules/a.toml:1: khung giờ “toi” (17:00–17:30) trùng với “thu-tu” (17:29:59–17:45) ở schedules/b.toml:9",
                          "schedules/b.toml:9: khung giờ “thu-tu” (17:29:59–17:45) trùng với “toi” (17:00–17:30) ở schedules/a.toml:1"])
    }

    @Test("Date ranges that never meet do not overlap even on the same weekdays")
    func disjointRanges() {
        let parsed = ScheduleParser.parse("""
        [[slot]]
        id = "dot1"
        start = "17:00"
        end = "17:30"
        until = 2026-11-10
        play = ["x.mp3"]

        [[slot]]
        id = "dot2"
        start = "17:00"
        end = "17:30"
        from = 2026-11-11
        play = ["x.mp3"]
        """, file: "s.toml")
        #expect(ScheduleValidator { _ in true }.validate(parsed.slots).isEmpty)
    }

    @Test("Missing file and duplicate id: reported at the play and id lines")
    func missingFileAndDuplicate() {
        let parsed = ScheduleParser.parse("""
        [[slot]]
        id = "a"
        start = "06:00"
        play = ["asean/co.mp3", "asean/khong-co.mp3"]

        [[slot]]
        id = "a"
        start = "07:00"
        play = ["asean/co.mp3"]
        """, file: "schedules/sang.toml")
        let found = ScheduleValidator { $0 == "asean/co.mp3" }.validate(parsed.slots).map(\.description)
        #expect(found == [
            "schedules/sang.toml:4: không tìm thấy tệp “asean/khong-co.mp3” trong thư mục audio, cũng không có bản tin mã này trong thư viện",
            "schedules/sang.toml:7: mã khung giờ “a” đã dùng ở schedules/sang.toml:1",
        ])
    }
}

@Suite("Station configuration")
struct StationConfigTests {
    @Test("Paths resolve against the file's folder; defaults fill the rest")
    func resolvesPaths() throws {
        let config = try StationConfig.parse("""
        station = "UBND xã Đông Hòa"
        database = "data/loa.sqlite"
        [[feed]]
        name = "tinh"
        url = "http://127.0.0.1:8080/feed/"
        public_keys = ["uiIrff0fqkggkRRbElXjcR0uhYK4FuigaRBqCUbRa/Q="]
        interval = "5s"
        [loudness]
        target_lufs = -18
        """, file: URL(fileURLWithPath: "/etc/loa/loa.toml"))
        #expect(config.station == "UBND xã Đông Hòa")
        #expect(config.database.path == "/etc/loa/data/loa.sqlite")
        #expect(config.schedules.path == "/etc/loa/schedules")
        #expect(config.timeZone.identifier == "Asia/Ho_Chi_Minh")
        #expect(config.device == "default")
        #expect(config.feeds.first?.publicKeys == ["uiIrff0fqkggkRRbElXjcR0uhYK4FuigaRBqCUbRa/Q="])
        #expect(config.feeds.first?.intervalSeconds == 5 && config.feeds.first?.timeoutSeconds == 30)
        #expect(config.targetLUFS == -18)
    }

    @Test("A [[feed]] that could never be fetched or verified is an error at its line", arguments: [
        ("url = \"ftp://x/feed/\"\npublic_keys = [\"uiIrff0fqkggkRRbElXjcR0uhYK4FuigaRBqCUbRa/Q=\"]", 4, "url"),
        ("url = \"http://x/feed/\"\npublic_keys = [\"abc\"]", 5, "Ed25519"),
        ("url = \"http://x/feed/\"", 2, "public_keys"),
        ("url = \"http://x/feed/\"\npublic_keys = [\"uiIrff0fqkggkRRbElXjcR0uhYK4FuigaRBqCUbRa/Q=\"]\ninterval = \"soon\"", 6, "interval"),
        ("url = \"http://x/feed/\"\npublic_keys = [\"uiIrff0fqkggkRRbElXjcR0uhYK4FuigaRBqCUbRa/Q=\"]\ntimeout = \"1e16\"", 6, "timeout"),
        ("url = \"http://x/feed/\"\npublic_keys = [\"uiIrff0fqkggkRRbElXjcR0uhYK4FuigaRBqCUbRa/Q=\"]\nkeys = 1", 6, "keys"),
    ])
    func badFeed(body: String, line: Int, word: String) {
        let text = "station = \"x\"\n[[feed]]\nname = \"tinh\"\n" + body
        #expect {
            try StationConfig.parse(text, file: URL(fileURLWithPath: "/etc/loa/loa.toml"))
        } throws: { error in
            let message = "\(error)"
            return message.hasPrefix("/etc/loa/loa.toml:\(line):") && message.contains(word)
        }
    }

    @Test("The control socket defaults to <database>.sock beside the database; control_socket resolves like a path")
    func controlSocket() throws {
        let defaulted = try StationConfig.parse("database = \"data/loa.sqlite\"\n", file: URL(fileURLWithPath: "/etc/loa/loa.toml"))
        #expect(defaulted.controlSocket.path == "/etc/loa/data/loa.sqlite.sock")
        #expect(defaulted.lockFile.path == "/etc/loa/data/loa.sqlite.lock")
        let explicit = try StationConfig.parse("control_socket = \"run/loa.sock\"\n", file: URL(fileURLWithPath: "/etc/loa/loa.toml"))
        #expect(explicit.controlSocket.path == "/etc/loa/run/loa.sock")
    }

    @Test("monitor is optional; its silence threshold defaults to −50 dBFS; bad values name file and line")
    func monitor() throws {
        let file = URL(fileURLWithPath: "/etc/loa/loa.toml")
        let without = try StationConfig.parse("station = \"x\"\n", file: file)
        #expect(without.monitor == nil && without.monitorSilenceDBFS == -50)
        let with = try StationConfig.parse("device = \"hw:0\"\nmonitor = \"hw:1\"\nmonitor_silence_dbfs = -60\n", file: file)
        #expect(with.monitor == "hw:1" && with.monitorSilenceDBFS == -60)
        for (text, line, word) in [("station = \"x\"\nmonitor = \"\"\n", 2, "monitor"), ("monitor = 1\n", 1, "monitor"),
                                   ("\nmonitor = \"hw:1\"\nmonitor_silence_dbfs = 3\n", 3, "monitor_silence_dbfs"),
                                   ("monitor_silence_dbfs = \"-50\"\n", 1, "monitor_silence_dbfs")] {
            #expect {
                try StationConfig.parse(text, file: file)
            } throws: { error in
                "\(error)".hasPrefix("/etc/loa/loa.toml:\(line):") && "\(error)".contains(word)
            }
        }
    }

    @Test("Unknown keys and bad time zones name file and line")
    func errors() {
        #expect(throws: ConfigError.self) { try StationConfig.parse("station = \"x\"\nvolume = 3\n", file: URL(fileURLWithPath: "/x/loa.toml")) }
        do {
            _ = try StationConfig.parse("station = \"x\"\n\ntimezone = \"Mars/Olympus\"\n", file: URL(fileURLWithPath: "/x/loa.toml"))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("/x/loa.toml:3: múi giờ không hợp lệ"))
        }
    }
}
