import ArgumentParser
import Foundation
import LoaCore

struct ScheduleValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Kiểm tra mọi tệp trong schedules/; lỗi ghi rõ tệp:dòng.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        // A setup command, run before anything is imported: without a database the library is empty.
        let station = try global.station(.readOrEmpty)
        let problems = try station.validate()
        for problem in problems { FileHandle.standardError.write(Data("\(problem)\n".utf8)) }
        // Allowed but most likely not meant: said, and the exit status stays that of the problems alone.
        for warning in ScheduleValidator.warnings(station.schedules.slots) {
            FileHandle.standardError.write(Data("\(warning.location): cảnh báo: \(warning.message)\n".utf8))
        }
        if problems.isEmpty {
            print("Lịch phát hợp lệ: \(station.schedules.slots.count) khung giờ trong \(station.schedules.files.count) tệp.")
        } else {
            FileHandle.standardError.write(Data("loa: \(problems.count) lỗi trong lịch phát\n".utf8))
            throw ExitCode(1)
        }
    }
}
