import ArgumentParser
import LoaCore

struct SegmentListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Các bản tin trong thư viện.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "In JSON.") var json = false

    struct SegmentJSON: Encodable {
        let id: String, title: String, pillar: String?, campaign: String?, path: String, duration_seconds: Double
        let format: String, sample_rate: Int, channels: Int, sha256: String
    }

    func run() async throws {
        let segments = try global.station().library.all()
        if json {
            try printJSON(segments.map {
                SegmentJSON(id: $0.id, title: $0.title, pillar: $0.pillar?.rawValue, campaign: $0.campaign, path: $0.path,
                            duration_seconds: $0.durationSeconds, format: $0.format, sample_rate: $0.sampleRate,
                            channels: $0.channels, sha256: $0.sha256)
            })
            return
        }
        printTable(["Mã", "Tiêu đề", "Trụ cột", "Chiến dịch", "Thời lượng", "Định dạng", "Tệp"], segments.map {
            [$0.id, $0.title, $0.pillar?.label ?? "—", $0.campaign ?? "—", formatSeconds($0.durationSeconds),
             "\($0.format) \($0.sampleRate) Hz", $0.path]
        })
    }
}
