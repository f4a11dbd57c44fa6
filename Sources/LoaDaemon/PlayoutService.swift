import Foundation
import LoaAudio
import LoaConfig
import LoaCore
import LoaStore
import Logging
import ServiceLifecycle
import UnixSignals

/// The daemon's heart: plans each occurrence ahead, stores its plan, hands it to the one long-lived
/// engine at its lead-in, logs what the engine reports, and reloads its files on request.
public final class PlayoutService: Service, Sendable {
    /// What was loaded at start; reloads read `station.config.file` again.
    let initial: Station
    let clock: any WallClock
    let logger: Logger
    /// How long before a slot its plan is handed to the engine, so the device is open and the first
    /// sample can be placed exactly.
    let leadSeconds: Double
    /// The station's one output engine.
    public let engine: PlayoutEngine
    private let reloads = ReloadSignal()
    /// Announcements accepted on the control channel, aired in order above any slot.
    let announcements = AsyncStream.makeStream(of: Announcement.self, bufferingPolicy: .unbounded)
    /// The station as last loaded, for the control channel.
    let current: StationBox
    /// The one writer of the airing log: what the disk refuses is held and written later, and playout goes on.
    public let writer: AiringLogWriter
    /// The on-air check, when `loa.toml` names a `monitor`; it runs as a service of its own.
    let monitor: OnAirMonitor?
    /// The device's state and each feed's last poll, for `loa status`.
    public let health: DaemonHealth
    /// An output on the station's device, opened once at start to say at once that it cannot be.
    private let probeOutput: @Sendable () -> any AudioOutput
    /// A wall-clock jump this much larger than the time that passed is a clock step, not a suspend.
    static let clockStepSeconds = 30.0

    /// `station` is loaded by the caller, which can then fail fast on a broken `loa.toml` or database.
    public init(station: Station, clock: any WallClock, leadSeconds: Double = 1.5, logger: Logger, monitor: OnAirMonitor? = nil,
                makeOutput: @escaping @Sendable (String) -> any AudioOutput) {
        self.initial = station
        self.monitor = monitor
        self.clock = clock
        self.logger = logger
        self.leadSeconds = leadSeconds
        health = DaemonHealth(clock: clock)
        let device = station.config.device
        engine = PlayoutEngine(clock: clock) { makeOutput(device) }
        probeOutput = { makeOutput(device) }
        current = StationBox(station)
        writer = AiringLogWriter(database: station.database, clock: clock, logger: logger)
    }

    /// Re-reads `loa.toml` and the schedules before the next slot (SIGHUP).
    public func requestReload() { reloads.trigger() }

    public func run() async throws {
        var station = initial
        report(station)
        probeDevice(station.config.device)
        closeAbandoned(station)
        // A slot already on air is entered per its lateness policy: it is visited first.
        let searchFrom = resumePoint(at: clock.now(), station)
        // A discarding group: a daemon that runs for months must not keep every finished airing.
        await withDiscardingTaskGroup { airings in
            airings.addTask { [engine, announcements] in
                for await announcement in announcements.stream { await announcement.air(on: engine) }
            }
            await withGracefulShutdownHandler {
                do {
                    try await schedule(from: searchFrom, station: &station, airings: &airings)
                } catch {
                    logger.error("\(error)")
                }
            } onGracefulShutdown: { [engine] in
                engine.shutdown()
            }
            // Whatever is on air or handed over from here on fades or is logged skipped.
            engine.shutdown()
            announcements.continuation.finish()
        }
    }

    /// Visits every occurrence in order, handing each to the engine at its lead-in; returns on shutdown.
    private func schedule(from start: Date, station: inout Station, airings: inout DiscardingTaskGroup) async throws {
        var searchFrom = start
        // Slots already handed over that start exactly at `searchFrom`.
        var taken: Set<String> = []
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            guard let next = station.planner.nextOccurrence(atOrAfter: searchFrom, slots: station.schedules.slots, taken: taken) else {
                logger.notice("Không có khung giờ nào trong 14 ngày tới; chờ lệnh nạp lại (SIGHUP)")
                switch try await sleep(until: clock.now().addingTimeInterval(3600)) {
                case .reload: station = reload(station)
                case .shutdown: return
                case .deadline: break
                case let .clockStepped(to): (searchFrom, taken) = (resumePoint(at: to, station), [])
                }
                continue
            }
            logger.info("Khung giờ tiếp theo: \(next.slot.id) lúc \(station.config.calendar.rfc3339(next.startsAt))")
            // A relay connects at its source's lead, so that its first sample is heard on the slot's second.
            let lead = max(leadSeconds, relayLead(of: next.slot, station))
            switch try await sleep(until: next.startsAt.addingTimeInterval(-lead)) {
            case .shutdown: return
            case .reload:
                station = reload(station)
                continue
            case let .clockStepped(to):
                // The occurrences the clock jumped over were never due: they get no rows. One on air at
                // the new time is entered per its policy.
                (searchFrom, taken) = (resumePoint(at: to, station), [])
                continue
            case .deadline: break
            }
            if next.startsAt != searchFrom { taken = [] }
            searchFrom = next.startsAt
            taken.insert(next.slot.id)
            var airing: OccurrenceAiring
            do {
                airing = try OccurrenceAiring.prepare(next.slot, startsAt: next.startsAt, station: station, log: writer,
                                                      logger: logger, monitor: monitor, clock: clock)
                airing.health = health
                if let feed = airing.relay?.feed { health.relayOpened(feed) }
            } catch {
                logger.error("\(next.slot.id): không lưu được kế hoạch phát: \(error)")
                continue
            }
            if airing.isClosed {
                if let feed = airing.relay?.feed {
                    feed.close()
                    health.relayClosed(feed)
                }
                logger.notice("\(next.slot.id) lúc \(station.config.calendar.rfc3339(next.startsAt)) đã có trong nhật ký; không phát lại")
                continue
            }
            // Late (a restart inside the slot, a PC woken after it): the program's state machine decides what is left,
            // by the policy, the moment the engine takes it.
            let engine = self.engine
            let sources: [String: PlayoutSource]
            do { sources = try station.playoutSources(for: airing.segmentIDs) } catch {
                logger.error("\(error)")
                sources = [:]
            }
            airings.addTask { await airing.air(on: engine, sources: sources) }
        }
    }

    /// How long before `slot` its relay's connection opens; 0 for a slot that airs files.
    private func relayLead(of slot: Slot, _ station: Station) -> Double {
        guard case let .relay(spec) = slot.content else { return 0 }
        return station.config.source(named: spec.source)?.tuning.leadSeconds ?? 0
    }

    /// Rows a run that died left open: `started` ones are closed interrupted (an occurrence still on air goes on with
    /// them in rows of their own, by its policy), and planned occurrences whose time has wholly passed are closed skipped.
    /// A log that cannot be read or written does not stop playout: the writer holds what it cannot write.
    private func closeAbandoned(_ station: Station) {
        do {
            let abandoned = try writer.closeAbandoned(reason: Reason(.daemonDied))
            if !abandoned.isEmpty {
                logger.warning("\(abandoned.count) lượt phát dở từ lần chạy trước được ghi là bị ngắt; khung giờ còn giờ thì phát tiếp theo chính sách của nó")
            }
            let now = clock.now()
            for stale in try writer.stalePlans(before: now) {
                let skipped = try writer.closePlanned(
                    slot: stale.slot, startsAt: stale.startsAt,
                    reason: Reason(.daemonNotRunning, station.config.calendar.clockTime(now)))
                logger.warning("\(stale.slot) lúc \(station.config.calendar.rfc3339(stale.startsAt)): \(skipped) bản tin đã lên kế hoạch nhưng Loa không chạy; ghi là bỏ qua")
            }
        } catch {
            logger.error("\(error)")
        }
    }

    /// Where the visit of occurrences starts at `instant`: the start of one already on air (it is entered per
    /// its policy), else `instant`.
    private func resumePoint(at instant: Date, _ station: Station) -> Date {
        station.planner.occurrenceInProgress(at: instant, slots: station.schedules.slots)?.startsAt ?? instant
    }

    /// Reads the files again; a reload with any error keeps the schedule that was last valid on air.
    private func reload(_ old: Station) -> Station {
        do {
            let config = try StationConfig.load(old.config.file)
            // The same database stays open: the log's writer holds it, and a second pool would not see it recreated.
            if config.database != old.config.database {
                logger.warning("database trong loa.toml đổi thành \(config.database.path): chỉ có hiệu lực khi khởi động lại Loa")
            }
            let station = Station.load(config: config, database: old.database)
            let problems = try station.validate()
            if !problems.isEmpty {
                for problem in problems { logger.error("\(problem)") }
                logger.error("Lịch phát mới có \(problems.count) lỗi: giữ lịch đang phát (\(old.schedules.slots.count) khung giờ) cho đến khi sửa xong")
                return old
            }
            logger.notice("Đã nạp lại cấu hình và lịch phát: \(station.schedules.slots.count) khung giờ, thiết bị \(station.config.device)")
            current.set(station)
            return station
        } catch let error as ConfigError where error.summary != nil {
            for problem in error.problems { logger.error("\(problem)") }
            logger.error("Không nạp lại được, giữ cấu hình cũ: \(error.summary ?? "")")
            return old
        } catch {
            logger.error("Không nạp lại được, giữ cấu hình cũ: \(error)")
            return old
        }
    }

    private func report(_ station: Station) {
        for problem in (try? station.validate()) ?? station.schedules.problems {
            logger.error("\(problem)")
        }
        logger.info("\(station.config.station): \(station.schedules.slots.count) khung giờ, thiết bị \(station.config.device)")
    }

    /// Opens and closes the device before anything airs: a device that does not exist or is taken is said now, not
    /// at the first slot hours later. The engine tries it again at every slot, as ever.
    private func probeDevice(_ device: String) {
        let output = probeOutput()
        do {
            try output.open()
            output.close()
            logger.info("Thiết bị âm thanh “\(device)”: mở được")
        } catch {
            health.deviceLost("\(error)")
            logger.error("\(error) — chưa phát được; Loa vẫn chạy và thử mở lại ở mỗi khung giờ (kiểm tra “device” trong loa.toml; `aplay -L` liệt kê các thiết bị)")
        }
    }

    enum Wake: Equatable { case deadline, reload, shutdown, clockStepped(to: Date) }

    /// Sleeps until `deadline`, a reload request, or graceful shutdown, whichever comes first. A wall clock
    /// that jumped against the monotonic clock while asleep is reported, once, as a clock step.
    private func sleep(until deadline: Date) async throws -> Wake {
        let clock = self.clock, reloads = self.reloads
        let wallBefore = clock.now(), monotonicBefore = clock.monotonicSeconds()
        let wake: Wake
        do {
            wake = try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: Wake.self) { group in
                    group.addTask {
                        try await clock.sleep(until: deadline)
                        return .deadline
                    }
                    group.addTask {
                        await reloads.wait()
                        return .reload
                    }
                    let first = try await group.next() ?? .deadline
                    group.cancelAll()
                    return first
                }
            }
        } catch is CancellationError {
            return .shutdown
        }
        let wallNow = clock.now()
        let step = wallNow.timeIntervalSince(wallBefore) - (clock.monotonicSeconds() - monotonicBefore)
        if abs(step) > PlayoutService.clockStepSeconds {
            let consequence = step > 0 ? "các khung giờ nằm trong bước nhảy không được phát và không ghi nhật ký"
                : "khung giờ nào đã có trong nhật ký sẽ không phát lại"
            logger.warning("Đồng hồ hệ thống nhảy \(step > 0 ? "tới" : "lùi") \(formatSeconds(abs(step))) (đồng bộ giờ hoặc đặt giờ tay); \(consequence)")
            return .clockStepped(to: wallNow)
        }
        return wake
    }
}

/// Wakes whoever waits when a reload is requested; a request with no waiter is kept for the next one.
final class ReloadSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    private var pending = false

    func trigger() {
        let toResume: [CheckedContinuation<Void, Never>] = lock.withLock {
            if waiters.isEmpty { pending = true }
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        toResume.forEach { $0.resume() }
    }

    func wait() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = lock.withLock {
                    if pending {
                        pending = false
                        return true
                    }
                    // Cancelled before we got here: the cancellation handler has already run and found no waiter.
                    if Task.isCancelled { return true }
                    waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = lock.withLock { waiters.removeValue(forKey: id) }
            continuation?.resume()
        }
    }
}

/// Turns SIGHUP into a reload of the playout service.
public struct ReloadOnHangup: Service {
    let target: PlayoutService

    public init(target: PlayoutService) { self.target = target }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals { target.requestReload() }
        }
    }
}
