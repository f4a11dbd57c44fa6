import ArgumentParser
import Foundation
import LoaCore
import LoaDaemon

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Đang phát gì, sắp phát gì, feed, thiết bị âm thanh, đĩa, đồng hồ, Loa chạy bao lâu.",
        discussion: "Hỏi Loa đang chạy qua kênh điều khiển. Khi Loa không chạy: vẫn in những gì các tệp và nhật ký cho biết, và thoát với mã 3.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "In JSON.") var json = false

    func run() async throws {
        let station = try global.station(.readOrEmpty)
        var status: StationStatus
        do {
            let response = try ControlClient.send(.status, socketPath: station.config.controlSocket.path, timeout: 10)
            guard response.ok, let answered = response.status else {
                throw OperatorError("Loa trả lời lỗi: \(response.error ?? "không có trạng thái")")
            }
            status = answered
        } catch let error as DaemonError where error.isNotRunning {
            let now = SystemClock().now()
            status = try station.status(now: now, daemon: nil, host: station.hostChecks(now: now))
        }
        if json {
            try printJSON(status)
        } else {
            status.lines.forEach { print($0) }
        }
        if !status.daemon.running { throw ExitCode(3) }
    }
}
