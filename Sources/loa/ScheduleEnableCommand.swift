import ArgumentParser
import LoaConfig

struct ScheduleEnableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable", abstract: "Bật lại một khung giờ đã tắt.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Mã khung giờ.") var id: String
    @OptionGroup var target: ScheduleFileOption

    func run() async throws {
        try ScheduleChange.enable(id: id).perform(file: target.file, global: global)
    }
}
