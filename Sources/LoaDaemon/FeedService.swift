import Foundation
import LoaConfig
import LoaCore
import LoaFeed
import Logging
import ServiceLifecycle

/// Polls each `[[feed]]` of `loa.toml` at its interval: an unchanged feed costs one conditional request
/// answered 304. What a fetch installs joins the library (the next lead-in plans from it); a verified
/// emergency airs at once through the playout service's preemption. A failed poll is retried sooner, with a
/// doubling delay (5 s, 10 s, 20 s… never beyond the interval).
public struct FeedService: Service {
    let playout: PlayoutService
    let clock: any WallClock
    let logger: Logger
    let makeTransport: @Sendable (FeedConfig) -> any FeedTransport

    public init(playout: PlayoutService, clock: any WallClock, logger: Logger,
                makeTransport: @escaping @Sendable (FeedConfig) -> any FeedTransport) {
        self.playout = playout
        self.clock = clock
        self.logger = logger
        self.makeTransport = makeTransport
    }

    public func run() async throws {
        playout.airPendingEmergencies()
        let feeds = playout.current.get().config.feeds
        guard !feeds.isEmpty else { return }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for feed in feeds { group.addTask { await poll(feed) } }
            }
        }
    }

    private func poll(_ feed: FeedConfig) async {
        let transport = makeTransport(feed)
        var failures = 0
        while !Task.isCancelled {
            let station = playout.current.get()
            let report = await station.feedFetcher(feed, transport: transport, clock: clock).fetch()
            switch report.manifest {
            case .unchanged: logger.debug("\(report.summary)")
            case .accepted: logger.notice("\(report.summary)")
            case .refused: logger.error("\(report.summary)")
            }
            for refusal in report.refused { logger.error("\(refusal)") }
            for segment in report.installed {
                logger.notice("Đã cài “\(segment.title)” (\(segment.id), \(segment.priority.label)) từ feed “\(feed.name)”")
                if segment.priority == .emergency { playout.airEmergency(segment) }
            }
            do {
                for segment in try playout.current.get().removeExpiredFeedSegments(now: clock.now()) {
                    logger.notice("Đã xóa tệp của “\(segment.title)” (\(segment.id)): hết hạn phát; nhật ký vẫn giữ các lượt đã phát")
                }
            } catch {
                logger.error("Không dọn được bản tin hết hạn: \(error)")
            }
            if case let .refused(error) = report.manifest, case .http = error { failures += 1 } else { failures = 0 }
            let wait = failures == 0 ? feed.intervalSeconds : min(feed.intervalSeconds, 5 * pow(2, Double(min(failures - 1, 10))))
            do { try await clock.sleep(until: clock.now().addingTimeInterval(wait)) } catch { break }
        }
        await transport.shutdown()
    }
}
