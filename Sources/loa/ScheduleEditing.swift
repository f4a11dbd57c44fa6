import ArgumentParser
import Foundation
import LoaConfig
import LoaCore

/// The keys of a slot, as options shared by `schedule add` and `schedule edit`.
struct SlotOptions: ParsableArguments {
    @Option(help: "Giờ bắt đầu HH:MM hoặc HH:MM:SS.") var start: String?
    @Option(help: "Giờ kết thúc cứng HH:MM[:SS]; bỏ trống: khung giờ dài bằng các bản tin.") var end: String?
    @Option(help: "Ngày phát: daily, mon-fri hoặc mon,wed,fri.") var days: String?
    @Option(help: "Phát từ ngày YYYY-MM-DD.") var from: String?
    @Option(help: "Phát đến hết ngày YYYY-MM-DD.") var until: String?
    @Option(parsing: .upToNextOption, help: "Chọn bản tin theo trụ cột (chinh-tri-an-ninh, kinh-te, van-hoa-xa-hoi).")
    var pillar: [String] = []
    @Option(help: "Số bản tin chọn theo trụ cột.") var count: Int?
    @Option(parsing: .upToNextOption, help: "Các tệp trong audio/ hoặc mã bản tin, phát theo thứ tự.") var play: [String] = []
    @Option(help: "Nhạc hiệu mở đầu (tệp trong audio/ hoặc mã bản tin).") var intro: String?
    @Option(help: "Nhạc hiệu kết thúc.") var outro: String?
    @Option(help: "Khi vào muộn: \(LatenessPolicy.nameList).") var late: String?
    @Option(help: "Tên khung giờ cho người đọc.") var title: String?

    var settings: SlotSettings {
        SlotSettings(title: title, start: start, end: end, days: days, from: from, until: until,
                     pillar: pillar.isEmpty ? nil : pillar, count: count, play: play.isEmpty ? nil : play,
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
    /// otherwise written atomically. Prints what was done.
    func perform(file: String?, global: GlobalOptions) throws {
        // Checked against the library as it is; a station with no database yet has an empty one.
        let station = try global.station(.readOrEmpty)
        let editor = ScheduleEditor(config: station.config)
        let draft = try editor.draft(self, file: file)
        guard draft.after != draft.before else {
            print("\(draft.display): không có gì thay đổi")
            return
        }
        let problems = try editor.introducedProblems(draft) { try station.validate($0) }
        guard problems.isEmpty else {
            for problem in problems { FileHandle.standardError.write(Data("\(problem)\n".utf8)) }
            throw OperatorError("không ghi gì, \(draft.display) giữ nguyên: sửa như vậy sẽ có \(problems.count) lỗi trong lịch phát")
        }
        try editor.write(draft)
        let line = ScheduleText(draft.after).slot(id).map { ":\($0.header + 1)" } ?? ""
        let done = switch self {
        case .add: "Đã thêm khung giờ “\(id)” vào \(draft.display)\(line)"
        case .remove: "Đã bỏ khung giờ “\(id)” khỏi \(draft.display)"
        case .enable: "Đã bật lại khung giờ “\(id)” (\(draft.display)\(line))"
        case .disable: "Đã tắt khung giờ “\(id)” (\(draft.display)\(line)); bật lại: loa schedule enable \(id)"
        case .edit: "Đã sửa khung giờ “\(id)” (\(draft.display)\(line))"
        }
        print("\(done). Loa đang chạy tự nạp lại lịch khi tệp thay đổi.")
    }
}
