import ArgumentParser
import Foundation
import LoaConfig
import LoaCore
import LoaDaemon

/// The keys of a slot, as options shared by `schedule add` and `schedule edit`.
struct SlotOptions: ParsableArguments {
    @Option(help: "Giờ bắt đầu HH:MM hoặc HH:MM:SS.") var start: String?
    @Option(help: "Giờ kết thúc cứng HH:MM[:SS]; bỏ trống: khung giờ dài bằng các bản tin.") var end: String?
    @Option(help: "Ngày phát: daily, mon-fri hoặc mon,wed,fri.") var days: String?
    @Option(help: "Phát từ ngày YYYY-MM-DD.") var from: String?
    @Option(help: "Phát đến hết ngày YYYY-MM-DD.") var until: String?
    @Option(parsing: .upToNextOption, help: "Chọn bản tin theo trụ cột (chinh-tri-an-ninh, kinh-te, van-hoa-xa-hoi).")
    var pillar: [String] = []
    @Option(help: "Số bản tin chọn theo trụ cột.", transform: OptionValue.count) var count: Int?
    @Option(parsing: .upToNextOption, help: "Các tệp trong audio/ hoặc mã bản tin, phát theo thứ tự.") var play: [String] = []
    @Option(help: "Tiếp sóng trực tiếp nguồn này (tên một [[source]] trong loa.toml) thay cho --play/--pillar; cần --end.")
    var relay: String?
    @Option(parsing: .upToNextOption, help: "Khi mất nguồn tiếp sóng: các tệp trong audio/ hoặc mã bản tin, phát lặp theo thứ tự.")
    var fallback: [String] = []
    @Option(name: .customLong("fallback-pillar"), parsing: .upToNextOption,
            help: "Khi mất nguồn tiếp sóng: bản tin của các trụ cột này, ít phát nhất trước, phát lặp.")
    var fallbackPillar: [String] = []
    @Option(help: "Nhạc hiệu mở đầu (tệp trong audio/ hoặc mã bản tin).") var intro: String?
    @Option(help: "Nhạc hiệu kết thúc.") var outro: String?
    @Option(help: "Khi vào muộn: \(LatenessPolicy.nameList).") var late: String?
    @Option(help: "Tên khung giờ cho người đọc.") var title: String?

    var settings: SlotSettings {
        SlotSettings(title: title, start: start, end: end, days: days, from: from, until: until,
                     pillar: pillar.isEmpty ? nil : pillar, count: count, play: play.isEmpty ? nil : play, relay: relay,
                     fallback: fallback.isEmpty ? nil : fallback, fallbackPillar: fallbackPillar.isEmpty ? nil : fallbackPillar,
                     intro: intro, outro: outro, late: late)
    }
}

/// `--file`, shared by every command that edits a schedule.
struct ScheduleFileOption: ParsableArguments {
    @Option(help: "Tệp lịch trong schedules/ (mặc định: tệp có khung giờ đó; với add: tệp có khung giờ gần giờ bắt đầu nhất).")
    var file: String?
}

extension ScheduleChange {
    /// Makes the change: refused with the problems it would bring, each at its `file:line`, and the file untouched;
    /// otherwise written atomically. Prints what was done. Edits of one station are made one at a time.
    func perform(file: String?, global: GlobalOptions) throws {
        // Checked against the library as it is; a station with no database yet has an empty one.
        let station = try global.station(.readOrEmpty)
        let editor = ScheduleEditor(config: station.config)
        try editor.exclusively {
            let draft = try editor.draft(self, file: file)
            guard draft.after != draft.before else {
                print("\(draft.display): không có gì thay đổi")
                return
            }
            // The library is read once for both checks, before and after.
            let library = try station.library.all()
            let problems = try editor.introducedProblems(draft) { Station.validate($0, audio: station.config.audio, library: library,
                                                                                              sources: station.config.sources) }
            guard problems.isEmpty else {
                let flags = flagLines(in: draft)
                for problem in problems {
                    // A problem on a line this edit wrote names the option that wrote it.
                    let flag = problem.location.file == draft.display ? flags[problem.location.line].map { " (--\($0))" } ?? "" : ""
                    FileHandle.standardError.write(Data("\(problem.location)\(flag): \(problem.message)\n".utf8))
                }
                throw OperatorError("không ghi gì, \(draft.display) giữ nguyên: sửa như vậy sẽ có \(problems.count) lỗi trong lịch phát")
            }
            try editor.write(draft)
            let line = ScheduleText(draft.after).slot(id).map { ":\($0.header + 1)" } ?? ""
            let done = switch self {
            case .add: "Đã thêm khung giờ “\(id)” vào \(draft.display)\(line)"
            case .remove: "Đã bỏ khung giờ “\(id)” khỏi \(draft.display)" + (draft.after.isEmpty ? " (tệp không còn gì, đã xóa)" : "")
            case .enable: "Đã bật lại khung giờ “\(id)” (\(draft.display)\(line))"
            case .disable: "Đã tắt khung giờ “\(id)” (\(draft.display)\(line)); bật lại: loa schedule enable \(id)"
            case .edit: "Đã sửa khung giờ “\(id)” (\(draft.display)\(line))"
            }
            print("\(done). Nếu Loa đang chạy, nó tự nạp lại lịch.")
            if let warning = expiryWarning(today: station.config.calendar.localDate(of: SystemClock().now())) {
                FileHandle.standardError.write(Data("loa: ⚠ \(warning)\n".utf8))
            }
            // What `loa schedule validate` warns of in the slot just written (a relay with no fallback).
            let written = ScheduleParser.parse(draft.after, file: draft.display).slots.filter { $0.id == id }
            for warning in ScheduleValidator.warnings(written) {
                FileHandle.standardError.write(Data("loa: ⚠ \(warning.location): \(warning.message)\n".utf8))
            }
        }
    }

    /// A slot given an `--until` already past is valid (the file may keep old slots), but it will not air again:
    /// the officer who just typed it most likely meant another year.
    func expiryWarning(today: LocalDate) -> String? {
        guard let until = settings?.until.flatMap(LocalDate.init(parsing:)), until < today else { return nil }
        return "khung giờ “\(id)” chỉ phát đến hết \(until), ngày đã qua: nó sẽ không phát nữa"
    }

    /// The 1-based lines of the edited slot that hold a key this change set, by the option's name (the key's, with
    /// `-` for `_`: `fallback_pillar` is set by `--fallback-pillar`).
    private func flagLines(in draft: ScheduleEditor.Draft) -> [Int: String] {
        guard let settings else { return [:] }
        let set = Set(settings.values.map(\.key))
        var lines: [Int: String] = [:]
        for (key, span) in ScheduleText(draft.after).slot(id)?.keys ?? [] where set.contains(key) {
            for line in span { lines[line + 1] = key.replacingOccurrences(of: "_", with: "-") }
        }
        return lines
    }
}
