import Foundation
import LoaCore
import TOMLKit

/// Reads one schedule file's text into slots, reporting every problem with its line.
public enum ScheduleParser {
    /// Whether a `play`, `intro` or `outro` entry names something inside the audio folder (or a segment id): no
    /// absolute path and no `..`, so a schedule cannot air, or make the daemon read, a file elsewhere.
    static func staysInAudio(_ entry: String) -> Bool {
        !entry.hasPrefix("/") && !entry.split(separator: "/").contains("..")
    }

    static func outsideAudio(_ entry: String) -> String {
        "“\(entry)” ra ngoài thư mục audio: chỉ dùng tệp trong audio/ (đường dẫn tương đối, không có “..”) hoặc mã bản tin"
    }

    static let slotKeys = ["id", "title", "start", "end", "days", "from", "until", "pillar", "count", "play", "relay", "fallback", "fallback_pillar",
                           "intro", "outro", "late", "enabled"]
    static let fileKeys = ["title", "slot"]

    /// Parses `text`; `file` is the name used in diagnostics. Returns the slots that parsed cleanly
    /// and every problem found (a slot with a problem is left out).
    public static func parse(_ text: String, file: String) -> (slots: [Slot], problems: [Diagnostic]) {
        let table: TOMLTable
        do { table = try parseTOML(text, file: file) } catch { return ([], [error]) }
        let index = TOMLLineIndex(text: text)
        var problems: [Diagnostic] = []
        let root = index.table("")
        for key in table.keys where !fileKeys.contains(key) {
            problems.append(Diagnostic(SourceLocation(file: file, line: root?.keys[key] ?? 1),
                                       "khóa không hợp lệ “\(key)” (ở đầu tệp chỉ dùng: title, [[slot]])"))
        }
        guard let slotArray = table["slot"] else { return ([], problems) }
        guard let elements = slotArray.array else {
            problems.append(Diagnostic(SourceLocation(file: file, line: root?.keys["slot"] ?? 1),
                                       "“slot” phải là các bảng [[slot]]"))
            return ([], problems)
        }
        var slots: [Slot] = []
        let sections = index.arrayElements("slot")
        for n in 0..<elements.count {
            let section = n < sections.count ? sections[n] : nil
            let header = SourceLocation(file: file, line: section?.line ?? 1)
            guard let slotTable = elements[n].table else {
                problems.append(Diagnostic(header, "mỗi khung giờ phải là một bảng [[slot]]"))
                continue
            }
            var reader = SlotReader(table: slotTable, file: file, header: header, keyLines: section?.keys ?? [:])
            if let slot = reader.read() { slots.append(slot) }
            problems += reader.problems
        }
        return (slots, problems)
    }
}

/// Reads the keys of one `[[slot]]` table, collecting problems rather than stopping at the first.
struct SlotReader {
    let table: TOMLTable
    let file: String
    let header: SourceLocation
    let keyLines: [String: Int]
    var problems: [Diagnostic] = []

    init(table: TOMLTable, file: String, header: SourceLocation, keyLines: [String: Int]) {
        self.table = table
        self.file = file
        self.header = header
        self.keyLines = keyLines
    }

    func at(_ key: String) -> SourceLocation { SourceLocation(file: file, line: keyLines[key] ?? header.line) }

    mutating func problem(_ key: String, _ message: String) { problems.append(Diagnostic(at(key), message)) }

    mutating func read() -> Slot? {
        let before = problems.count
        for key in table.keys where !ScheduleParser.slotKeys.contains(key) {
            problem(key, UnknownKey.message(key, in: nil, known: ScheduleParser.slotKeys))
        }
        var id = ""
        if let value = table["id"] {
            if let text = value.string, !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
                id = text
            } else {
                problem("id", "mã khung giờ phải là chữ ASCII, số, “-” hoặc “_”, ví dụ \"asean-toi\"")
            }
        } else {
            problems.append(Diagnostic(header, "khung giờ thiếu “id”"))
        }
        let start = readTime("start")
        if table["start"] == nil { problems.append(Diagnostic(header, "khung giờ thiếu giờ bắt đầu “start”")) }
        let end = table["end"] == nil ? nil : readTime("end")
        if let start, let end, end <= start {
            problem("end", "giờ kết thúc \(end) không sau giờ bắt đầu \(start)")
        }
        let days = readDays()
        let from = readDate("from"), until = readDate("until")
        if let from, let until, until < from {
            problem("until", "ngày kết thúc \(until) trước ngày bắt đầu \(from)")
        }
        let content = readContent()
        if case .relay = content, table["end"] == nil {
            // An upstream has no length of its own: without an end the relay would never stop.
            problem("relay", "khung giờ tiếp sóng cần giờ kết thúc “end”: luồng trực tiếp không tự hết")
        }
        let intro = readJingle("intro"), outro = readJingle("outro")
        let late = readLate()
        let enabled = readEnabled()
        guard problems.count == before, let start, let days, let content, let late else { return nil }
        return Slot(id: id, start: start, end: end, days: days, from: from, until: until, content: content,
                    intro: intro, outro: outro, late: late, enabled: enabled, source: header, keyLines: keyLines)
    }

    mutating func readJingle(_ key: String) -> String? {
        guard let value = table[key] else { return nil }
        if let text = value.string, !text.isEmpty {
            guard ScheduleParser.staysInAudio(text) else { problem(key, ScheduleParser.outsideAudio(text)); return nil }
            return text
        }
        problem(key, "“\(key)” phải là đường dẫn tệp trong thư mục audio hoặc mã bản tin, ví dụ \"nhac-hieu\"")
        return nil
    }

    mutating func readEnabled() -> Bool {
        guard let value = table["enabled"] else { return true }
        if let flag = value.bool { return flag }
        problem("enabled", "“enabled” phải là true hoặc false, không phải \(value.debugDescription)")
        return true
    }

    mutating func readLate() -> LatenessPolicy? {
        guard let value = table["late"] else { return .join }
        if let text = value.string, let policy = LatenessPolicy(rawValue: text) { return policy }
        problem("late", "“late” không hợp lệ \(value.debugDescription) (chọn: \(LatenessPolicy.nameList))")
        return nil
    }

    mutating func readTime(_ key: String) -> TimeOfDay? {
        guard let value = table[key] else { return nil }
        if let time = value.time, let parsed = TimeOfDay(hour: time.hour, minute: time.minute, second: time.second) {
            return parsed
        }
        if let text = value.string, let parsed = TimeOfDay(parsing: text) { return parsed }
        problem(key, "giờ không hợp lệ \(value.debugDescription) (cần \"HH:MM\" hoặc \"HH:MM:SS\", 00:00–23:59:59)")
        return nil
    }

    mutating func readDate(_ key: String) -> LocalDate? {
        guard let value = table[key] else { return nil }
        if let date = value.date, let parsed = LocalDate(year: date.year, month: date.month, day: date.day) { return parsed }
        if let text = value.string, let parsed = LocalDate(parsing: text) { return parsed }
        problem(key, "ngày không hợp lệ \(value.debugDescription) (cần YYYY-MM-DD)")
        return nil
    }

    mutating func readDays() -> DaySet? {
        guard let value = table["days"] else { return .daily }
        if let text = value.string, let days = DaySet(parsing: text) { return days }
        if let array = value.array {
            let items = array.compactMap { $0.string }
            if items.count == array.count, let days = DaySet(parsingList: items) { return days }
        }
        problem("days", "ngày phát không hợp lệ \(value.debugDescription) (dùng \"daily\", \"mon-fri\" hoặc [\"mon\", \"wed\"])")
        return nil
    }

    mutating func readStrings(_ key: String) -> [String]? {
        guard let value = table[key] else { return nil }
        if let text = value.string { return [text] }
        if let array = value.array {
            let items = array.compactMap { $0.string }
            if items.count == array.count { return items }
        }
        problem(key, "“\(key)” phải là một chuỗi hoặc một danh sách chuỗi")
        return nil
    }

    mutating func readContent() -> SlotContent? {
        if table["relay"] != nil { return readRelay() }
        for key in ["fallback", "fallback_pillar"] where table[key] != nil {
            problem(key, "“\(key)” chỉ dùng trong khung giờ tiếp sóng (có “relay = \"tên nguồn\"”)")
        }
        let play = readStrings("play")
        let hasCount = table["count"] != nil
        if table["play"] != nil && table["pillar"] != nil {
            problem("pillar", "khung giờ chỉ dùng một trong hai: “play” (danh sách tệp) hoặc “pillar” (chọn theo trụ cột)")
            return nil
        }
        if let play {
            if play.isEmpty { problem("play", "danh sách “play” rỗng") ; return nil }
            if let outside = play.first(where: { !ScheduleParser.staysInAudio($0) }) {
                problem("play", ScheduleParser.outsideAudio(outside))
                return nil
            }
            if hasCount { problem("count", "“count” chỉ dùng với “pillar”") ; return nil }
            return .play(play)
        }
        if table["pillar"] != nil {
            let pillars = readPillars("pillar")
            var count = 1
            if let value = table["count"] {
                if let n = value.int, n >= 1 { count = n } else {
                    problem("count", "“count” phải là số nguyên dương, không phải \(value.debugDescription)")
                }
            }
            return pillars.map { .pick(pillars: $0, count: count) }
        }
        if table["play"] == nil && table["pillar"] == nil {
            problems.append(Diagnostic(header, "khung giờ không có nội dung: thêm “play = [...]”, “pillar = [...]” hoặc “relay = \"tên nguồn\"”"))
        }
        return nil
    }

    /// Names of pillars, each checked; nil when one is not a pillar or there are none.
    mutating func readPillars(_ key: String) -> [Pillar]? {
        guard let names = readStrings(key) else { return nil }
        if names.isEmpty { problem(key, "danh sách “\(key)” rỗng"); return nil }
        var pillars: [Pillar] = []
        for name in names {
            if let pillar = Pillar(rawValue: name) { pillars.append(pillar) } else { problem(key, Pillar.unknownMessage(name)) }
        }
        return pillars.count == names.count ? pillars : nil
    }

    /// `relay = "vov1"` with its `fallback` (items looped) or `fallback_pillar` (segments of those pillars looped).
    /// Whether the source is one of `loa.toml`'s is for the validator, which reads both files.
    mutating func readRelay() -> SlotContent? {
        let before = problems.count
        let source = table["relay"]?.string ?? ""
        if source.isEmpty || !source.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            problem("relay", "“relay” phải là tên một nguồn [[source]] trong loa.toml (chữ không dấu, số, - hoặc _), ví dụ \"vov1\"")
        }
        for key in ["play", "pillar", "count"] where table[key] != nil {
            problem(key, "khung giờ tiếp sóng (“relay”) không dùng “\(key)”: nội dung là luồng trực tiếp; "
                    + "phát gì khi mất nguồn thì ghi ở “fallback” hoặc “fallback_pillar”")
        }
        var fallback = RelayFallback.none
        if table["fallback"] != nil && table["fallback_pillar"] != nil {
            problem("fallback_pillar", "khung giờ tiếp sóng chỉ dùng một trong hai: “fallback” (tệp hoặc mã bản tin, phát lặp) "
                    + "hoặc “fallback_pillar” (chọn theo trụ cột)")
        } else if let items = readStrings("fallback") {
            if items.isEmpty { problem("fallback", "danh sách “fallback” rỗng") }
            else if let outside = items.first(where: { !ScheduleParser.staysInAudio($0) }) { problem("fallback", ScheduleParser.outsideAudio(outside)) }
            else { fallback = .play(items) }
        } else if let pillars = readPillars("fallback_pillar") {
            fallback = .pick(pillars: pillars)
        }
        return problems.count == before ? .relay(RelaySpec(source: source, fallback: fallback)) : nil
    }
}
