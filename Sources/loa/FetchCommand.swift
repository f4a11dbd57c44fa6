import ArgumentParser
import Foundation
import LoaDaemon
import LoaFeed

struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Tải ngay các feed trong loa.toml: kiểm chữ ký, tải tiếp phần dở, kiểm SHA-256, rồi mới đưa vào thư viện.")

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Chỉ tải feed có tên này.") var feed: String?

    func run() async throws {
        let station = try global.station(.create)
        let feeds = station.config.feeds.filter { feed == nil || $0.name == feed }
        guard !feeds.isEmpty else {
            throw OperatorError(feed.map { "không có [[feed]] tên “\($0)” trong \(station.config.file.path)" }
                                ?? "\(station.config.file.path) không khai báo [[feed]] nào")
        }
        let bar = isatty(STDOUT_FILENO) == 1 ? ProgressBar() : nil
        var failed = false
        for config in feeds {
            let transport = HTTPFeedTransport(timeoutSeconds: config.timeoutSeconds)
            var fetcher = station.feedFetcher(config, transport: transport, clock: SystemClock())
            if let bar { fetcher.progress = { bar.show($0) } }
            let report = await fetcher.fetch()
            await transport.shutdown()
            bar?.clear()
            print(report.summary)
            for refusal in report.refused { print("  từ chối: \(refusal)") }
            if case .refused = report.manifest { failed = true }
            if !report.refused.isEmpty { failed = true }
        }
        for segment in try station.removeExpiredFeedSegments(now: SystemClock().now()) {
            print("Đã xóa tệp của “\(segment.title)” (\(segment.id)): hết hạn phát; nhật ký vẫn giữ các lượt đã phát")
        }
        if failed { throw ExitCode(1) }
    }
}
