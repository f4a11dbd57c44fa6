import ArgumentParser

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Lịch phát: kiểm tra, liệt kê, xem kế hoạch; thêm, bỏ, bật, tắt, sửa khung giờ.",
        subcommands: [ScheduleValidateCommand.self, ScheduleListCommand.self, ScheduleShowCommand.self,
                      ScheduleAddCommand.self, ScheduleRemoveCommand.self, ScheduleEnableCommand.self,
                      ScheduleDisableCommand.self, ScheduleEditCommand.self])
}
