import ArgumentParser
import Foundation
import LoaConfig
import LoaDaemon
import LoaFeed

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Kiểm tra trạm: cấu hình, lịch phát, cơ sở dữ liệu, thiết bị âm thanh, feed, đĩa, đồng hồ.",
        discussion: """
        Mỗi mục một dòng: ✓ đạt, ! cảnh báo (vẫn phát, nhưng nên xem), ✗ lỗi (kèm cách sửa). Thiết bị âm thanh được \
        mở và phát 0,5 giây im lặng; feed được tải danh mục và kiểm chữ ký, nhưng không tải hay cài gì; cơ sở dữ liệu \
        chỉ được mở để đọc.

        Mã thoát, cho script giám sát: 0 khi mọi mục đạt, 1 khi có ít nhất một mục lỗi, 2 khi chỉ có cảnh báo.
        """)

    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "In JSON: một mảng {check, subject, verdict (ok|warning|fail), message, details}.")
    var json = false

    func run() async throws {
        let configFile: Result<URL, ConfigError>
        do throws(ConfigError) {
            configFile = .success(try StationConfig.locate(global.config,
                                                           workingDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)))
        } catch {
            configFile = .failure(error)
        }
        let doctor = Doctor(clock: SystemClock()) { feed in HTTPFeedTransport(timeoutSeconds: feed.timeoutSeconds) }
        let findings = await doctor.examine(configFile, systemZone: TimeZone.current)
        if json {
            try printJSON(findings)
        } else {
            for finding in findings { finding.lines.forEach { print($0) } }
        }
        let status = doctorExitStatus(findings)
        if status != 0 { throw ExitCode(status) }
    }
}
