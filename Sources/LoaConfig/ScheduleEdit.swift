import Foundation
import LoaCore
import TOMLKit

/// What an edit sets on a slot, as the operator typed it; nil leaves a key as it is. Values are written into the
/// file as given and checked by parsing the edited file, so a bad one is named at its `file:line` exactly as
/// `loa schedule validate` would.
public struct SlotSettings: Sendable, Equatable {
    public var title: String?
    public var start: String?
    public var end: String?
    public var days: String?
    public var from: String?
    public var until: String?
    public var pillar: [String]?
    public var count: Int?
    public var play: [String]?
    /// The `[[source]]` a relay slot takes live.
    public var relay: String?
    /// What a relay airs while its upstream cannot be heard: items looped (`fallback`), or segments of pillars (`fallback_pillar`).
    public var fallback: [String]?
    public var fallbackPillar: [String]?
    public var intro: String?
    public var outro: String?
    public var late: String?
    /// Keys to take out of the slot (`end`, `from`, `until`, `intro`, `outro`, `title`, `count`).
    public var clear: [String] = []

    public init(title: String? = nil, start: String? = nil, end: String? = nil, days: String? = nil, from: String? = nil,
                until: String? = nil, pillar: [String]? = nil, count: Int? = nil, play: [String]? = nil, relay: String? = nil,
                fallback: [String]? = nil, fallbackPillar: [String]? = nil, intro: String? = nil, outro: String? = nil,
                late: String? = nil, clear: [String] = []) {
        self.title = title
        self.start = start
        self.end = end
        self.days = days
        self.from = from
        self.until = until
        self.pillar = pillar
        self.count = count
        self.play = play
        self.relay = relay
        self.fallback = fallback
        self.fallbackPillar = fallbackPillar
        self.intro = intro
        self.outro = outro
        self.late = late
        self.clear = clear
    }

    /// Keys `clear` may name: those a slot can do without.
    public static let clearable = ["title", "end", "days", "from", "until", "count", "fallback", "fallback_pillar", "intro",
                                   "outro", "late"]

    /// The keys to write, in the order a new slot lists them (the sample schedules' order).
    public var values: [(key: String, value: String)] {
        var out: [(String, String)] = []
        if let title { out.append(("title", TOMLText.string(title))) }
        if let start { out.append(("start", TOMLText.string(start))) }
        if let end { out.append(("end", TOMLText.string(end))) }
        if let days { out.append(("days", TOMLText.days(days))) }
        if let from { out.append(("from", TOMLText.date(from))) }
        if let until { out.append(("until", TOMLText.date(until))) }
        if let pillar { out.append(("pillar", TOMLText.array(pillar))) }
        if let count { out.append(("count", "\(count)")) }
        if let play { out.append(("play", TOMLText.array(play))) }
        if let relay { out.append(("relay", TOMLText.string(relay))) }
        // One item as a string, as the sample schedules write a jingle looped.
        if let fallback { out.append(("fallback", fallback.count == 1 ? TOMLText.string(fallback[0]) : TOMLText.array(fallback))) }
        if let fallbackPillar { out.append(("fallback_pillar", TOMLText.array(fallbackPillar))) }
        if let intro { out.append(("intro", TOMLText.string(intro))) }
        if let outro { out.append(("outro", TOMLText.string(outro))) }
        if let late { out.append(("late", TOMLText.string(late))) }
        return out
    }

    public var isEmpty: Bool { values.isEmpty && clear.isEmpty }
}

/// One change to the schedules, as the CLI asks for it.
public enum ScheduleChange: Sendable, Equatable {
    case add(id: String, SlotSettings)
    case remove(id: String)
    case enable(id: String)
    case disable(id: String)
    case edit(id: String, SlotSettings)

    public var id: String {
        switch self {
        case let .add(id, _), let .remove(id), let .enable(id), let .disable(id), let .edit(id, _): id
        }
    }

    /// The keys an `add` or `edit` sets; nil for the changes that set none.
    public var settings: SlotSettings? {
        switch self {
        case let .add(_, settings), let .edit(_, settings): settings
        case .remove, .enable, .disable: nil
        }
    }

    /// Applies the change to one file's text. Pure: the caller reads, checks and writes.
    public func apply(to text: inout ScheduleText, file: String) throws(ConfigError) {
        if case let .add(id, settings) = self {
            if let existing = text.slot(id) {
                throw .refused("đã có khung giờ “\(id)” ở \(file):\(existing.header + 1)")
            }
            if settings.start == nil { throw .refused("khung giờ mới cần giờ bắt đầu: --start HH:MM") }
            try ScheduleChange.checkContent(settings)
            if settings.play == nil && settings.pillar == nil && settings.relay == nil {
                throw .refused("khung giờ mới cần nội dung: --play TỆP…, --pillar TRỤ-CỘT… hoặc --relay NGUỒN")
            }
            text.append(slot: [("id", TOMLText.string(id))] + settings.values)
            return
        }
        let matching = text.slots.filter { $0.id == id }
        guard let block = matching.first else { throw .refused("không có khung giờ “\(id)” trong \(file)") }
        guard matching.count == 1 else {
            throw .refused("\(file) có \(matching.count) khung giờ “\(id)” (dòng \(matching.map { "\($0.header + 1)" }.joined(separator: ", "))): đổi mã một khung bằng tay trước")
        }
        switch self {
        case .add: return
        case .remove:
            text.remove(block)
        case .disable:
            guard !ScheduleChange.isDisabled(block, in: text) else {
                throw .refused("khung giờ “\(id)” đã tắt sẵn (\(file):\(block.header + 1))")
            }
            text.set("enabled", to: "false", in: block)
        case .enable:
            guard block.lines(of: "enabled") != nil else {
                throw .refused("khung giờ “\(id)” đang bật, không có gì để đổi (\(file):\(block.header + 1))")
            }
            // Taking the line out, rather than writing `true`, makes disable then enable give back the file as it was.
            text.remove("enabled", from: block)
        case let .edit(_, settings):
            try ScheduleChange.edit(block, settings, in: &text)
        }
    }

    /// Options that cannot go together: a slot has one kind of content, and a relay one kind of fallback.
    static func checkContent(_ settings: SlotSettings) throws(ConfigError) {
        let content = [("--play", settings.play != nil), ("--pillar", settings.pillar != nil), ("--relay", settings.relay != nil)]
            .filter(\.1).map(\.0)
        if content.count > 1 {
            throw .refused("chỉ dùng một trong ba: --play (danh sách tệp), --pillar (chọn theo trụ cột) hoặc --relay (tiếp sóng); "
                           + "đã cho \(content.joined(separator: " và "))")
        }
        if settings.fallback != nil && settings.fallbackPillar != nil {
            throw .refused("chỉ dùng một trong hai: --fallback (tệp hoặc mã bản tin, phát lặp) hoặc --fallback-pillar (chọn theo trụ cột)")
        }
        if settings.play != nil || settings.pillar != nil, let flag = settings.fallback != nil ? "--fallback" : settings.fallbackPillar != nil ? "--fallback-pillar" : nil {
            throw .refused("\(flag) chỉ dùng cho khung giờ tiếp sóng (--relay), không cùng --play hay --pillar")
        }
    }

    static func isDisabled(_ block: ScheduleText.SlotBlock, in text: ScheduleText) -> Bool {
        guard let span = block.lines(of: "enabled") else { return false }
        return ScheduleText.value(ofLine: text.lines[span.lowerBound])?.bool == false
    }

    /// Sets and clears keys one at a time, finding the slot again after each (line numbers move).
    static func edit(_ block: ScheduleText.SlotBlock, _ settings: SlotSettings, in text: inout ScheduleText) throws(ConfigError) {
        guard !settings.isEmpty else { throw .refused("không có gì để sửa: cho biết --start, --end, --days, --play, … hoặc --clear") }
        try checkContent(settings)
        if let key = settings.clear.first(where: { key in settings.values.contains { $0.key == key } }) {
            throw .refused("--\(key) và --clear \(key) cùng lúc: chọn một")
        }
        if let key = settings.clear.first(where: { !SlotSettings.clearable.contains($0) }) {
            throw .refused("--clear \(key): chỉ bỏ được \(SlotSettings.clearable.joined(separator: ", "))")
        }
        guard let id = block.id else { return }
        func current() -> ScheduleText.SlotBlock { text.slot(id) ?? block }
        /// Sets `key`, or writes it where the first of `others` there was (the content it takes the place of), and
        /// takes the rest of `others` out: a slot has one kind of content.
        func put(_ key: String, _ value: String, replacing others: [String]) {
            let slot = current()
            if slot.lines(of: key) == nil, let old = others.first(where: { slot.lines(of: $0) != nil }) {
                text.replace(old, with: key, value: value, in: slot)
            } else {
                text.set(key, to: value, in: slot)
            }
            for other in others { text.remove(other, from: current()) }
        }
        for (key, value) in settings.values {
            switch key {
            // Switching between the two kinds of content: the new key takes the old one's place.
            case "play":
                put(key, value, replacing: ["pillar", "count", "relay", "fallback", "fallback_pillar"])
            case "pillar":
                put(key, value, replacing: ["play", "relay", "fallback", "fallback_pillar"])
            case "relay":
                put(key, value, replacing: ["play", "pillar", "count"])
            case "fallback":
                put(key, value, replacing: ["fallback_pillar"])
            case "fallback_pillar":
                put(key, value, replacing: ["fallback"])
            default:
                text.set(key, to: value, in: current())
            }
        }
        for key in settings.clear { text.remove(key, from: current()) }
    }
}
