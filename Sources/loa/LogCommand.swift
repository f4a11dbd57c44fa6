import ArgumentParser

/// `loa log` shows the log (`show`, the default: `loa log --format csv` is `loa log show --format csv`) or
/// exports it for the district (`export`).
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Nhật ký phát: xem hoặc xuất.",
                                                    subcommands: [LogShowCommand.self, LogExportCommand.self],
                                                    defaultSubcommand: LogShowCommand.self)
}
