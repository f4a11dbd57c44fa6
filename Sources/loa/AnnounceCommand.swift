import ArgumentParser
import Foundation
import LoaAudio
import LoaConfig
import LoaDaemon

struct AnnounceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "announce",
        abstract: "Loa daemon đang chạy phát ngay một tệp, trên mọi khung giờ (ghi nhật ký là thông báo).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp(audioFileHelp)) var file: String
    @Option(name: .customLong("repeat"), help: "Số lần phát liền nhau, từ 1 trở lên (mặc định 1).",
            transform: OptionValue.count)
    var times: Int = 1

    func run() async throws {
        let config = try StationConfig.load(global.configFile())
        let source = URL(fileURLWithPath: file).standardizedFileURL
        guard FileManager.default.fileExists(atPath: source.path) else { throw OperatorError("\(file): không có tệp này") }
        // Refused here rather than by the daemon: the operator learns at once, and nothing interrupts the air.
        _ = try withStandardErrorSilenced { try SndFileDecoder.probe(path: source.path) }
        let response = try askDaemon(.announce(path: source.path, repeat: times), config: config)
        guard response.ok else { throw OperatorError(response.error ?? "Loa daemon từ chối mà không nói lý do") }
        print(response.message ?? "Đã nhận: \(source.path)")
    }
}
