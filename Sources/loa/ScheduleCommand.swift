import ArgumentParser

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Lịch phát: kiểm tra, liệt kê, xem kế hoạch trong ngày.",
        subcommands: [ScheduleValidateCommand.self, ScheduleListCommand.self, ScheduleShowCommand.self])
}
