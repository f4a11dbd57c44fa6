import Foundation
import LoaConfig
import LoaCore
import Testing

@Suite("Surgical schedule edits: only the lines an edit names change, byte for byte")
struct ScheduleTextTests {
    /// Three slots, Vietnamese comments above, between and at the end of lines, a multi-line array and a key
    /// aligned by hand.
    static let evening = """
    # Chương trình buổi tối — đừng xóa dòng này.
    title = "Chương trình phát thanh buổi tối"

    # Chuyên mục ASEAN các ngày trong tuần.
    [[slot]]
    id = "asean-toi"
    start = "17:15"
    end   = "17:30"   # giờ cứng: Đài huyện tiếp sóng lúc 17:30
    days = "mon-fri"
    pillar = [
        "kinh-te",          # ưu tiên kinh tế
        "van-hoa-xa-hoi",
    ]
    count = 3
    late = "next"

    # Đợt tuyên truyền Hội nghị Cấp cao ASEAN 37.
    # Chỉ cuối tuần.
    [[slot]]
    id = "hncc-asean-37"
    start = "17:15"
    days = ["sat", "sun"]
    from = 2026-11-12
    until = 2026-11-15
    play = ["asean/kinh-te.mp3"]
    # hết đợt thì xóa khung này

    [[slot]]
    id = "tin-xa"
    start = "18:00"
    play = ["thong-bao.mp3"]

    """

    func edited(_ text: String, _ change: ScheduleChange) throws -> String {
        var document = ScheduleText(text)
        try change.apply(to: &document, file: "toi.toml")
        return document.text
    }

    /// The lines of `after` that are not in `before`, and the ones gone, in order.
    func difference(_ before: String, _ after: String) -> (added: [String], removed: [String]) {
        let a = before.components(separatedBy: "\n"), b = after.components(separatedBy: "\n")
        let diff = b.difference(from: a)
        var added: [(Int, String)] = [], removed: [(Int, String)] = []
        for change in diff {
            switch change {
            case let .insert(offset, line, _): added.append((offset, line))
            case let .remove(offset, line, _): removed.append((offset, line))
            }
        }
        return (added.sorted { $0.0 < $1.0 }.map(\.1), removed.sorted { $0.0 < $1.0 }.map(\.1))
    }

    @Test("The file reads back into lines and out again byte for byte, LF, CRLF and no final newline alike")
    func roundTrip() {
        for text in [Self.evening, Self.evening.replacingOccurrences(of: "\n", with: "\r\n"), "title = \"x\"", ""] {
            #expect(ScheduleText(text).text == text)
        }
        #expect(ScheduleText(Self.evening).slots.map(\.id) == ["asean-toi", "hncc-asean-37", "tin-xa"])
    }

    @Test("Add then remove gives back the file as it was, for LF, CRLF, no final newline, trailing blanks and an empty file")
    func addThenRemove() throws {
        let texts = [Self.evening, Self.evening.replacingOccurrences(of: "\n", with: "\r\n"),
                     String(Self.evening.dropLast()), Self.evening + "\n\n", "", "# chỉ có chú thích\n"]
        let settings = SlotSettings(title: "Trưa \"ASEAN\"", start: "11:30", end: "11:45", days: "mon,wed",
                                    from: "2026-12-01", pillar: ["kinh-te"], count: 2, intro: "jingles/intro.ogg")
        for text in texts {
            let added = try edited(text, .add(id: "asean-trua", settings))
            #expect(added.hasPrefix(text))
            let parsed = ScheduleParser.parse(added, file: "toi.toml")
            let slot = try #require(parsed.slots.first { $0.id == "asean-trua" }, "\(parsed.problems)")
            #expect(slot.start.description == "11:30" && slot.from?.description == "2026-12-01")
            #expect(slot.content == .pick(pillars: [.kinhTe], count: 2))
            if text.contains("\r\n") {
                // The new lines end as the file's do.
                let new = String(decoding: added.utf8.dropFirst(text.utf8.count), as: UTF8.self)
                #expect(!new.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "\(Array(new.utf8))")
            }
            #expect(try edited(added, .remove(id: "asean-trua")) == text, "\(text.debugDescription)")
        }
    }

    @Test("Removing a slot takes its leading comments and one blank line; every other byte stays")
    func removeMiddle() throws {
        let middle = """
        # Đợt tuyên truyền Hội nghị Cấp cao ASEAN 37.
        # Chỉ cuối tuần.
        [[slot]]
        id = "hncc-asean-37"
        start = "17:15"
        days = ["sat", "sun"]
        from = 2026-11-12
        until = 2026-11-15
        play = ["asean/kinh-te.mp3"]
        # hết đợt thì xóa khung này\n\n
        """
        let removed = try edited(Self.evening, .remove(id: "hncc-asean-37"))
        #expect(removed == Self.evening.replacingOccurrences(of: middle, with: ""), "\(removed.debugDescription)")
        // The first slot, with the file's title and comment above it.
        let first = try edited(Self.evening, .remove(id: "asean-toi"))
        #expect(first.hasPrefix("# Chương trình buổi tối — đừng xóa dòng này.\ntitle = \"Chương trình phát thanh buổi tối\"\n\n# Đợt"))
        // The last one: the file then ends as the slot before it did.
        #expect(try edited(Self.evening, .remove(id: "tin-xa")).hasSuffix("# hết đợt thì xóa khung này\n"))
    }

    @Test("Editing a key changes its line only, keeping alignment and its comment; a multi-line array becomes one line")
    func editKeys() throws {
        let after = try edited(Self.evening, .edit(id: "asean-toi", SlotSettings(end: "17:40", late: "skip")))
        var (added, removed) = difference(Self.evening, after)
        #expect(removed == ["end   = \"17:30\"   # giờ cứng: Đài huyện tiếp sóng lúc 17:30", "late = \"next\""])
        #expect(added == ["end   = \"17:40\"   # giờ cứng: Đài huyện tiếp sóng lúc 17:30", "late = \"skip\""])

        let pillars = try edited(Self.evening, .edit(id: "asean-toi", SlotSettings(pillar: ["van-hoa-xa-hoi"])))
        (added, removed) = difference(Self.evening, pillars)
        #expect(removed == ["pillar = [", "    \"kinh-te\",          # ưu tiên kinh tế", "    \"van-hoa-xa-hoi\",", "]"])
        #expect(added == ["pillar = [\"van-hoa-xa-hoi\"]"])

        // A key the slot lacks goes after its last value, before the comment that closes it.
        let intro = try edited(Self.evening, .edit(id: "hncc-asean-37", SlotSettings(intro: "jingles/intro.ogg")))
        #expect(intro.contains("play = [\"asean/kinh-te.mp3\"]\nintro = \"jingles/intro.ogg\"\n# hết đợt thì xóa khung này\n"))
        #expect(difference(Self.evening, intro).removed.isEmpty)
    }

    @Test("Switching content: --play takes pillar's place and count goes; --clear takes keys out")
    func switchContent() throws {
        let after = try edited(Self.evening, .edit(id: "asean-toi", SlotSettings(play: ["a.mp3", "b.mp3"], clear: ["end"])))
        let parsed = ScheduleParser.parse(after, file: "toi.toml")
        let slot = try #require(parsed.slots.first { $0.id == "asean-toi" }, "\(parsed.problems)")
        #expect(slot.content == .play(["a.mp3", "b.mp3"]) && slot.end == nil)
        #expect(after.contains("days = \"mon-fri\"\nplay = [\"a.mp3\", \"b.mp3\"]\nlate = \"next\"\n"))
    }

    @Test("Disable then enable gives back the file as it was; a disabled slot parses and airs on no day")
    func disableEnable() throws {
        for text in [Self.evening, Self.evening.replacingOccurrences(of: "\n", with: "\r\n"), String(Self.evening.dropLast())] {
            let disabled = try edited(text, .disable(id: "tin-xa"))
            let slot = try #require(ScheduleParser.parse(disabled, file: "toi.toml").slots.first { $0.id == "tin-xa" })
            #expect(!slot.enabled && !slot.airs(on: LocalDate(year: 2026, month: 11, day: 26)!))
            #expect(try edited(disabled, .enable(id: "tin-xa")) == text)
        }
        #expect(throws: ConfigError.self) { try edited(Self.evening, .enable(id: "tin-xa")) }
        #expect(throws: ConfigError.self) { try edited(try edited(Self.evening, .disable(id: "tin-xa")), .disable(id: "tin-xa")) }
        // `enabled = true` written by hand: disable sets it false on its own line, keeping the comment.
        let byHand = Self.evening.replacingOccurrences(of: "id = \"tin-xa\"\n", with: "id = \"tin-xa\"\nenabled = true  # bật\n")
        #expect(try edited(byHand, .disable(id: "tin-xa")).contains("id = \"tin-xa\"\nenabled = false  # bật\n"))
    }

    @Test("A UTF-8 BOM (Notepad writes one) stays through every edit, LF and CRLF, and the file parses with it at the right lines")
    func byteOrderMark() throws {
        let slotFirst = "[[slot]]\nid = \"dau\"\nstart = \"05:00\"\nplay = [\"x.mp3\"]\n\n" + Self.evening
        for base in [Self.evening, slotFirst] {
            for text in [base, base.replacingOccurrences(of: "\n", with: "\r\n")].map({ "\u{FEFF}" + $0 }) {
                let bytes = Array(text.utf8)
                #expect(Array(ScheduleText(text).text.utf8) == bytes)
                let ids = ScheduleText(text).slots.compactMap(\.id)
                #expect(ids.suffix(3) == ["asean-toi", "hncc-asean-37", "tin-xa"] && ids.count == (base == slotFirst ? 4 : 3), "\(ids)")
                let parsed = ScheduleParser.parse(text, file: "toi.toml")
                #expect(parsed.problems.isEmpty && parsed.slots.count == ids.count, "\(parsed.problems)")
                #expect(parsed.slots.first?.source.line == (base == slotFirst ? 1 : 5))

                for id in ids {
                    let disabled = try edited(text, .disable(id: id))
                    #expect(disabled.utf8.starts(with: [0xEF, 0xBB, 0xBF]))
                    #expect(Array(try edited(disabled, .enable(id: id)).utf8) == bytes, "\(id)")
                    let moved = try edited(text, .edit(id: id, SlotSettings(start: "23:00")))
                    #expect(moved.utf8.starts(with: [0xEF, 0xBB, 0xBF]) && moved != text, "\(id)")
                }
                let added = try edited(text, .add(id: "moi", SlotSettings(start: "21:00", play: ["y.mp3"])))
                #expect(added.utf8.starts(with: [0xEF, 0xBB, 0xBF]))
                #expect(Array(try edited(added, .remove(id: "moi")).utf8) == bytes)
            }
        }
        // A file that is only the mark gets a slot after it, and gives it back when the slot goes.
        let onlyMark = "\u{FEFF}"
        let first = try edited(onlyMark, .add(id: "moi", SlotSettings(start: "21:00", play: ["y.mp3"])))
        #expect(first == "\u{FEFF}[[slot]]\nid = \"moi\"\nstart = \"21:00\"\nplay = [\"y.mp3\"]\n")
        #expect(try edited(first, .remove(id: "moi")) == onlyMark)
    }

    @Test("Refused: an id already there, an id not there, a new slot with no content, an edit with nothing to do")
    func refusals() {
        let twice = Self.evening + "\n[[slot]]\nid = \"tin-xa\"\nstart = \"21:00\"\nplay = [\"y.mp3\"]\n"
        #expect(throws: ConfigError.self, "two slots with one id in a file: which one is meant is not guessed") {
            try edited(twice, .remove(id: "tin-xa"))
        }
        for change in [ScheduleChange.add(id: "tin-xa", SlotSettings(start: "19:00", play: ["x.mp3"])),
                       .add(id: "khong-gio", SlotSettings(play: ["x.mp3"])),
                       .edit(id: "tin-xa", SlotSettings(late: "whole", clear: ["late"])),
                       .add(id: "moi", SlotSettings(start: "19:00")), .remove(id: "khong-co"),
                       .edit(id: "tin-xa", SlotSettings()), .edit(id: "tin-xa", SlotSettings(clear: ["id"]))] {
            #expect(throws: ConfigError.self, "\(change)") { try edited(Self.evening, change) }
        }
    }

    @Test("Days are written as the samples write them, whatever was typed: a list as an array, a range or daily as a string")
    func daysNormalised() {
        #expect(TOMLText.days("Mon, WED,mon") == "[\"mon\", \"wed\"]")
        #expect(TOMLText.days("mon-fri") == "\"mon-fri\"")
        #expect(TOMLText.days("mon,tue,wed,thu,fri,sat,sun") == "\"daily\"")
        #expect(TOMLText.days("thu-hai") == "\"thu-hai\"", "text that names no days is left for the parser to name")
    }

    @Test("Values are written as TOML the parser reads back: quotes, backslashes and diacritics in a title")
    func values() throws {
        let title = "Bản tin \"đặc biệt\" \\ trưa"
        let after = try edited("", .add(id: "t", SlotSettings(title: title, start: "12:00", play: ["x.mp3"])))
        #expect(after.contains("title = \"Bản tin \\\"đặc biệt\\\" \\\\ trưa\""))
        #expect(ScheduleParser.parse(after, file: "t.toml").problems.isEmpty)
    }

    @Test("An edit's problems are compared with the schedule's before it, not counting lines that moved")
    func introducedProblems() {
        let at = { (line: Int, message: String) in Diagnostic(SourceLocation(file: "toi.toml", line: line), message) }
        let before = [at(5, "khung giờ “a” trùng với “b” ở toi.toml:9")]
        let after = [at(7, "khung giờ “a” trùng với “b” ở toi.toml:11"), at(12, "giờ không hợp lệ")]
        #expect(ScheduleEditor.introduced(before: before, after: after) == [at(12, "giờ không hợp lệ")])
    }

    @Test("Taking a slot out of overlapping ones adds no problem, though the others' lines now name fewer; a new overlap is one")
    func overlapsAcrossAnEdit() {
        let validator = ScheduleValidator { _ in true }
        func slot(_ id: String, _ start: String, _ end: String, line: Int) -> Slot {
            Slot(id: id, start: TimeOfDay(parsing: start)!, end: TimeOfDay(parsing: end)!, content: .play(["a.wav"]),
                 source: SourceLocation(file: "toi.toml", line: line))
        }
        let a = slot("a", "17:00", "17:30", line: 1), b = slot("b", "17:10", "17:40", line: 6)
        let c = slot("c", "17:20", "17:50", line: 11), d = slot("d", "06:00", "06:30", line: 16)
        let e = slot("e", "06:10", "06:20", line: 21), f = slot("f", "06:15", "06:25", line: 26)
        let before = validator.validate([a, b, c, d, e])
        // c removed (or disabled): a and b still overlap, each now naming one other.
        #expect(ScheduleEditor.introduced(before: before, after: validator.validate([a, b, d, e])) == [])
        // a moved, still against b and c only: the overlap was there before.
        let moved = slot("a", "17:05", "17:35", line: 1)
        #expect(ScheduleEditor.introduced(before: before, after: validator.validate([moved, b, c, d, e])) == [])
        // f added against d and e: its own line, and d's and e's, which now count one more.
        let added = ScheduleEditor.introduced(before: before, after: validator.validate([a, b, c, d, e, f]))
        #expect(added.map(\.location.line) == [16, 21, 26], "\(added)")
        // c moved from a and b to d and e: d and e count one more (and name c); c still counts two, a and b one fewer.
        let c2 = slot("c", "06:05", "06:12", line: 11)
        let swapped = ScheduleEditor.introduced(before: before, after: validator.validate([a, b, c2, d, e]))
        #expect(swapped.map(\.location.line) == [16, 21], "\(swapped)")
    }
}
