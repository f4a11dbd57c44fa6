import ArgumentParser
import LoaCore

struct SegmentListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Các bản tin trong thư viện.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "In JSON.") var json = false

    struct SegmentJSON: Encodable {
        let id: String, title: String, pillar: String?, campaign: String?, path: String, duration_seconds: Double
        let format: String, sample_rate: Int, channels: Int, sha256: String
        /// Null for a segment imported before loudness was measured.
        let loudness_lufs: Double?, true_peak_dbtp: Double?, gain_db: Double?
    }

    func run() async throws {
        let station = try global.station(.read)
        let segments = try station.library.all()
        let target = station.config.targetLUFS
        func gain(_ segment: Segment) -> Double? { segment.loudness?.playoutGainDB(targetLUFS: target) }
        if json {
            // Hundredths are all a measurement in LU carries; the rest is floating-point noise.
            func hundredths(_ value: Double?) -> Double? { value.map { ($0 * 100).rounded() / 100 } }
            try printJSON(segments.map {
                SegmentJSON(id: $0.id, title: $0.title, pillar: $0.pillar?.rawValue, campaign: $0.campaign, path: $0.path,
                            duration_seconds: $0.durationSeconds, format: $0.format, sample_rate: $0.sampleRate,
                            channels: $0.channels, sha256: $0.sha256, loudness_lufs: hundredths($0.loudness?.integratedLUFS),
                            true_peak_dbtp: hundredths($0.loudness?.truePeakDBTP), gain_db: hundredths(gain($0)))
            })
            return
        }
        printTable(["Mã", "Tiêu đề", "Trụ cột", "Chiến dịch", "Thời lượng", "Độ to (LUFS)", "Đỉnh (dBTP)",
                    "Bù (dB, đích \(decimalText(target)))", "Định dạng", "Tệp"], segments.map {
            [$0.id, $0.title, $0.pillar?.label ?? "—", $0.campaign ?? "—", formatSeconds($0.durationSeconds),
             $0.loudness.map { $0.isSilent ? "im lặng" : decimalText($0.integratedLUFS) } ?? "chưa đo",
             $0.loudness.map { decimalText($0.truePeakDBTP) } ?? "—",
             gain($0).map { decimalText($0, signed: true) } ?? "—",
             "\($0.format) \($0.sampleRate) Hz", $0.path]
        })
    }
}
