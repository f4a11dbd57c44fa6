import ArgumentParser
import LoaConfig

struct ScheduleEditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Sửa các khóa của một khung giờ; chỉ các dòng đó đổi, chú thích cuối dòng giữ nguyên.",
        discussion: "Ví dụ: loa schedule edit asean-toi --start 17:20 --late skip; loa schedule edit hncc-asean-37 --clear until")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Mã khung giờ.") var id: String
    @OptionGroup var slot: SlotOptions
    @Option(help: "Bỏ một khóa khỏi khung giờ (\(SlotSettings.clearable.joined(separator: ", "))); dùng nhiều lần được.")
    var clear: [String] = []
    @OptionGroup var target: ScheduleFileOption

    func run() async throws {
        var settings = slot.settings
        settings.clear = clear
        try ScheduleChange.edit(id: id, settings).perform(file: target.file, global: global)
    }
}
