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
        let play: [String]?, pillar: [String]?, count: Int?, intro: String?, outro: String?, late: String, enabled: Bool
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
                switch slot.content {
                case let .play(entries): play = entries
                case let .pick(pillars, n): pillar = pillars.map(\.rawValue); count = n
                case .relay: break
                }
                return SlotJSON(id: slot.id, start: slot.start.description, end: slot.end?.description,
                                days: slot.days.description, from: slot.from?.description, until: slot.until?.description,
                                play: play, pillar: pillar, count: count, intro: slot.intro, outro: slot.outro,
                                late: slot.late.rawValue, enabled: slot.enabled, file: slot.source.file, line: slot.source.line)
            })
            return
        }
        printTable(["Khung giờ", "Giờ", "Ngày phát", "Thời hạn", "Nội dung", "Tệp"], slots.map { slot in
            let range = [slot.from.map { "từ \($0)" }, slot.until.map { "đến \($0)" }].compactMap { $0 }.joined(separator: " ")
            return [slot.enabled ? slot.id : "\(slot.id) (đã tắt)", slot.end.map { "\(slot.start)–\($0)" } ?? "\(slot.start)", slot.days.description,
                    range.isEmpty ? "—" : range, ScheduleListCommand.describe(slot.content), slot.source.description]
        })
    }

    static func describe(_ content: SlotContent) -> String {
        switch content {
        case let .play(entries): entries.joined(separator: ", ")
        case let .pick(pillars, count): "\(count) bản tin: " + pillars.map(\.label).joined(separator: ", ")
        case let .relay(spec): "tiếp sóng \(spec.source)"
        }
    }
}

/// A schedule with problems still lists and plans what parsed: say on stderr that the rest will not air.
func warnOfProblems(_ problems: [Diagnostic]) {
    guard let first = problems.first else { return }
    FileHandle.standardError.write(Data("loa: ⚠ lịch phát có \(problems.count) lỗi, khung giờ có lỗi không được phát (đầu tiên: \(first)); xem: loa schedule validate\n".utf8))
}
