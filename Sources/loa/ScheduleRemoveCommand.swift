import ArgumentParser
import LoaConfig

struct ScheduleRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Bỏ một khung giờ cùng chú thích ngay trên nó; phần còn lại của tệp giữ nguyên.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Mã khung giờ.") var id: String
    @OptionGroup var target: ScheduleFileOption

    func run() async throws {
        try ScheduleChange.remove(id: id).perform(file: target.file, global: global)
    }
}
