import Foundation
import LoaConfig
import LoaCore
import LoaFeed
import Logging
import ServiceLifecycle

/// Polls each `[[feed]]` of `loa.toml` at its interval, one feed at a time: an unchanged feed costs one
/// conditional request answered 304. What a fetch installs joins the library (the next lead-in plans from
/// it); a verified emergency airs at once through the playout service's preemption. A poll that could not
/// reach the server is retried sooner, with a doubling delay (5 s, 10 s, 20 s… never beyond the interval).
/// The feeds are read from the station as last loaded, so a SIGHUP reload adds, changes or drops them.
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
        await cancelWhenGracefulShutdown { await pollUntilCancelled() }
    }

    private func pollUntilCancelled() async {
        /// A feed being polled: its connection, when it is next due, and how many polls in a row failed to reach it.
        struct Polled {
            var feed: FeedConfig
            var transport: any FeedTransport
            var due: Date
            var failures = 0
        }
        var polled: [String: Polled] = [:]
        while !Task.isCancelled {
            // The feeds as last loaded: a SIGHUP reload that adds, changes or removes a [[feed]] acts here.
            let feeds = playout.current.get().config.feeds
            for (name, entry) in polled where !feeds.contains(entry.feed) {
                await entry.transport.shutdown()
                polled[name] = nil
            }
            for feed in feeds where (polled[feed.name]?.due ?? .distantPast) <= clock.now() && !Task.isCancelled {
                var entry = polled[feed.name] ?? Polled(feed: feed, transport: makeTransport(feed), due: .distantPast)
                let unreachable = await poll(feed, transport: entry.transport)
                entry.failures = unreachable ? entry.failures + 1 : 0
                let n = entry.failures
                let wait = n == 0 ? feed.intervalSeconds : min(feed.intervalSeconds, 5 * pow(2, Double(min(n - 1, 10))))
                entry.due = clock.now().addingTimeInterval(wait)
                polled[feed.name] = entry
            }
            // Until the next feed is due, or a reload changes the station (it may add, change or drop one).
            let next = polled.values.map(\.due).min() ?? .distantFuture
            let clock = self.clock, changed = playout.current.changed
            let woken: Bool? = try? await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await clock.sleep(until: next)
                    return true
                }
                group.addTask {
                    await changed.wait()
                    return true
                }
                let first = try await group.next()
                group.cancelAll()
                return first ?? true
            }
            if woken == nil { break }
        }
        for entry in polled.values { await entry.transport.shutdown() }
    }

    /// One fetch of `feed`: logs what it did, airs a new emergency; says whether the server could not be reached.
    private func poll(_ feed: FeedConfig, transport: any FeedTransport) async -> Bool {
        let station = playout.current.get()
        var fetcher = station.feedFetcher(feed, transport: transport, clock: clock)
        let playout = self.playout
        fetcher.onInstall = { segment in if segment.priority == .emergency { playout.airEmergency(segment) } }
        let report = await fetcher.fetch()
        playout.health.polled(report)
        switch report.manifest {
        case .unchanged: logger.debug("\(report.summary)")
        case .accepted: logger.notice("\(report.summary)")
        case .refused: logger.error("\(report.summary)")
        }
        for refusal in report.refused { logger.error("\(refusal)") }
        for segment in report.installed {
            logger.notice("Đã cài “\(segment.title)” (\(segment.id), \(segment.priority.label)) từ feed “\(feed.name)”")
        }
        // Emergencies installed by `loa fetch`, raised to emergency with their audio unchanged, or valid from today.
        playout.airPendingEmergencies(includingQueued: true)
        do {
            for segment in try station.removeExpiredFeedSegments(now: clock.now()) {
                logger.notice("Đã xóa tệp của “\(segment.title)” (\(segment.id)): hết hạn phát; nhật ký vẫn giữ các lượt đã phát")
            }
        } catch {
            logger.error("Không dọn được bản tin hết hạn: \(error)")
        }
        if case let .refused(error) = report.manifest, case .http = error { return true }
        return false
    }
}
