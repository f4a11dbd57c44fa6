import Foundation
import ArgumentParser
import LoaConfig
import LoaCore

struct ScheduleListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Các khung giờ, mỗi dòng một khung.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "In JSON.") var json = false

    struct SlotJSON: Encodable {
        let id: String, start: String, end: String?, days: String, from: String?, until: String?
        let play: [String]?, pillar: [String]?, count: Int?
        /// A relay slot's source, and what it airs while the source is not heard: items looped, or pillars' segments.
        let relay: String?, fallback: [String]?, fallback_pillar: [String]?
        let intro: String?, outro: String?, late: String, enabled: Bool
        let file: String, line: Int
    }

    func run() async throws {
        // Only the schedule files: listing them needs no database.
        let config = try StationConfig.load(global.configFile())
        let set = ScheduleSet.load(folder: config.schedules, relativeTo: config.file.deletingLastPathComponent())
        let slots = set.slots.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
        warnOfProblems(set.problems)
        if json {
            try printJSON(slots.map { slot in
                var play: [String]? = nil, pillar: [String]? = nil, count: Int? = nil
                var relay: String? = nil, fallback: [String]? = nil, fallbackPillar: [String]? = nil
                switch slot.content {
                case let .play(entries): play = entries
                case let .pick(pillars, n): pillar = pillars.map(\.rawValue); count = n
                case let .relay(spec):
                    relay = spec.source
                    switch spec.fallback {
                    case .none: break
                    case let .play(items): fallback = items
                    case let .pick(pillars): fallbackPillar = pillars.map(\.rawValue)
                    }
                }
                return SlotJSON(id: slot.id, start: slot.start.description, end: slot.end?.description,
                                days: slot.days.description, from: slot.from?.description, until: slot.until?.description,
                                play: play, pillar: pillar, count: count, relay: relay, fallback: fallback,
                                fallback_pillar: fallbackPillar, intro: slot.intro, outro: slot.outro,
                                late: slot.late.rawValue, enabled: slot.enabled, file: slot.source.file, line: slot.source.line)
            })
            return
        }
        printTable(["Khung giờ", "Giờ", "Ngày phát", "Thời hạn", "Nội dung", "Tệp"], slots.map { slot in
            let range = [slot.from.map { "từ \($0)" }, slot.until.map { "đến \($0)" }].compactMap { $0 }.joined(separator: " ")
            return [slot.enabled ? slot.id : "\(slot.id) (đã tắt)", slot.end.map { "\(slot.start)–\($0)" } ?? "\(slot.start)", slot.days.description,
                    range.isEmpty ? "—" : range, ScheduleListCommand.describe(slot.content, sources: config.sources),
                    slot.source.description]
        })
    }

    /// What a slot airs, in a few words: `tiếp sóng VOV1 (vov1); dự phòng: nhac-hieu` for a relay, its source's
    /// label from `sources` (`loa.toml`'s) when it is there.
    static func describe(_ content: SlotContent, sources: [UpstreamSource]) -> String {
        switch content {
        case let .play(entries): entries.joined(separator: ", ")
        case let .pick(pillars, count): "\(count) bản tin: " + pillars.map(\.label).joined(separator: ", ")
        case let .relay(spec):
            "tiếp sóng " + (sources.first { $0.name == spec.source }.map { $0.label == $0.name ? $0.name : "\($0.label) (\($0.name))" }
                ?? "\(spec.source) (không có trong loa.toml)") + "; " + describe(spec.fallback)
        }
    }

    /// `dự phòng: nhac-hieu, tin-a`, `dự phòng: bản tin Trụ cột Kinh tế`, or that there is none.
    static func describe(_ fallback: RelayFallback) -> String {
        switch fallback {
        case .none: "không có dự phòng"
        case let .play(items): "dự phòng: " + items.joined(separator: ", ")
        case let .pick(pillars): "dự phòng: bản tin " + pillars.map(\.label).joined(separator: ", ")
        }
    }
}

/// A schedule with problems still lists and plans what parsed: say on stderr that the rest will not air.
func warnOfProblems(_ problems: [Diagnostic]) {
    guard let first = problems.first else { return }
    FileHandle.standardError.write(Data("loa: ⚠ lịch phát có \(problems.count) lỗi, khung giờ có lỗi không được phát (đầu tiên: \(first)); xem: loa schedule validate\n".utf8))
}
