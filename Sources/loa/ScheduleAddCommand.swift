import ArgumentParser
import LoaConfig

struct ScheduleAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Thêm một khung giờ; chú thích và các khung giờ khác trong tệp giữ nguyên từng byte.",
        discussion: "Ví dụ: loa schedule add asean-trua --start 11:30 --end 11:45 --days mon-fri --pillar kinh-te van-hoa-xa-hoi --count 2; loa schedule add thoi-su-vov --start 06:00 --end 06:30 --relay vov1 --fallback nhac-hieu")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Mã khung giờ mới (chữ ASCII, số, “-”, “_”).") var id: String
    @OptionGroup var slot: SlotOptions
    @OptionGroup var target: ScheduleFileOption

    func run() async throws {
        try ScheduleChange.add(id: id, slot.settings).perform(file: target.file, global: global)
    }
}
