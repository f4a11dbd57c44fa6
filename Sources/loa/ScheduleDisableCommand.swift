import ArgumentParser
import LoaConfig

struct ScheduleDisableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable", abstract: "Tắt một khung giờ (ghi enabled = false): giữ trong tệp nhưng không phát ngày nào.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Mã khung giờ.") var id: String
    @OptionGroup var target: ScheduleFileOption

    func run() async throws {
        try ScheduleChange.disable(id: id).perform(file: target.file, global: global)
    }
}
