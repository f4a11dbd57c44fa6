import Foundation
import LoaAudio
import LoaCore
import LoaStore
import Logging
import ServiceLifecycle
import UnixSignals

/// The daemon's heart: sleeps until the next slot, airs it, logs it, and reloads its files on request.
public final class PlayoutService: Service, Sendable {
    /// What was loaded at start; reloads read `station.config.file` again.
    let initial: Station
    let clock: any WallClock
    let makeOutput: @Sendable (String) -> any AudioOutput
    let logger: Logger
    /// How long before a slot the device is opened, so its first sample can be placed exactly.
    let leadSeconds: Double
    private let reloads = ReloadSignal()

    /// `station` is loaded by the caller, which can then fail fast on a broken `loa.toml` or database.
    public init(station: Station, clock: any WallClock, leadSeconds: Double = 1.5, logger: Logger,
                makeOutput: @escaping @Sendable (String) -> any AudioOutput) {
        self.initial = station
        self.clock = clock
        self.makeOutput = makeOutput
        self.logger = logger
        self.leadSeconds = leadSeconds
    }

    /// Re-reads `loa.toml` and the schedules before the next slot (SIGHUP).
    public func requestReload() { reloads.trigger() }

    public func run() async throws {
        var station = initial
        report(station)
        let abandoned = try station.log.closeAbandoned(reason: "Loa dừng đột ngột khi đang phát (mất điện hoặc bị tắt)")
        if abandoned > 0 { logger.warning("\(abandoned) lượt phát dở từ lần chạy trước được ghi là bị ngắt") }
        try skipSlotInProgress(station)
        // Every occurrence from here on is visited in order, even one whose time has passed (the PC slept,
        // the previous slot ran long): it airs if its window is still open, else the log says why not.
        var searchFrom = clock.now()
        var onAir: (slot: String, until: Date)?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            guard let next = station.planner.nextOccurrence(atOrAfter: searchFrom, slots: station.schedules.slots) else {
                logger.notice("Không có khung giờ nào trong 14 ngày tới; chờ lệnh nạp lại (SIGHUP)")
                if try await sleep(until: clock.now().addingTimeInterval(3600)) == .reload { station = reload(station) }
                continue
            }
            logger.info("Khung giờ tiếp theo: \(next.slot.id) lúc \(station.config.calendar.rfc3339(next.startsAt))")
            switch try await sleep(until: next.startsAt.addingTimeInterval(-leadSeconds)) {
            case .shutdown: return
            case .reload:
                station = reload(station)
                continue
            case .deadline: break
            }
            searchFrom = next.startsAt.addingTimeInterval(1)
            if let previous = onAir, next.startsAt < previous.until {
                // It began while the previous slot (one without an end) was still airing what it planned.
                try skip(next.slot, startsAt: next.startsAt, station,
                         reason: "khung giờ trước (\(previous.slot)) chưa phát xong lúc \(station.config.calendar.clockTime(next.startsAt))")
                continue
            }
            onAir = try await air(next.slot, startsAt: next.startsAt, station).map { (next.slot.id, $0) }
        }
    }

    /// Airs an occurrence (late, if its window is still open) and returns when its planned content ends;
    /// nil when nothing was aired.
    private func air(_ slot: Slot, startsAt: Date, _ station: Station) async throws -> Date? {
        guard let airing = try newOccurrence(slot, startsAt: startsAt, station) else {
            logger.notice("\(slot.id) lúc \(station.config.calendar.rfc3339(startsAt)) đã có trong nhật ký; không phát lại")
            return nil
        }
        // Woken after the slot was over (the PC slept through it, or the clock jumped): say so, once.
        let now = clock.now()
        if now >= (airing.plan.endsAt ?? airing.plan.contentEndsAt) {
            skip(airing, reason: "Loa không chạy trong khung giờ (tiếp tục lúc \(station.config.calendar.clockTime(now)))")
            return nil
        }
        let device = station.config.device, makeOutput = self.makeOutput
        let engine = PlayoutEngine(clock: clock) { makeOutput(device) }
        await withGracefulShutdownHandler {
            await airing.air(on: engine)
        } onGracefulShutdown: {
            engine.stop()
        }
        return airing.plan.contentEndsAt
    }

    /// A slot already on air when the daemon starts is not joined: its items are logged skipped, once.
    private func skipSlotInProgress(_ station: Station) throws {
        let now = clock.now()
        guard let current = station.planner.occurrenceInProgress(at: now, slots: station.schedules.slots) else { return }
        try skip(current.slot, startsAt: current.startsAt, station,
                 reason: "Loa khởi động lúc \(station.config.calendar.clockTime(now)), sau khi khung giờ đã bắt đầu")
    }

    /// The planned airing of an occurrence, or nil when the log already has rows for it: nothing airs twice.
    private func newOccurrence(_ slot: Slot, startsAt: Date, _ station: Station) throws -> SlotAiring? {
        guard try !station.log.hasRows(slot: slot.id, startsAt: startsAt) else { return nil }
        let plan = station.planner.plan(slot: slot, startsAt: startsAt, library: try station.library.all(),
                                        history: try station.log.history())
        return SlotAiring(plan: plan, audioFolder: station.config.audio, device: station.config.device,
                          log: station.log, logger: logger)
    }

    /// Logs an occurrence's items as skipped with `reason`, unless it already has rows.
    private func skip(_ slot: Slot, startsAt: Date, _ station: Station, reason: String) throws {
        if let airing = try newOccurrence(slot, startsAt: startsAt, station) { skip(airing, reason: reason) }
    }

    private func skip(_ airing: SlotAiring, reason: String) {
        logger.warning("\(airing.plan.slot.id): \(reason); bỏ qua khung giờ này")
        airing.logAllSkipped(reason: reason)
    }

    private func reload(_ old: Station) -> Station {
        do {
            let station = try Station.load(configFile: old.config.file)
            logger.notice("Đã nạp lại cấu hình và lịch phát: \(station.schedules.slots.count) khung giờ")
            report(station)
            return station
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

    enum Wake { case deadline, reload, shutdown }

    /// Sleeps until `deadline`, a reload request, or graceful shutdown, whichever comes first.
    private func sleep(until deadline: Date) async throws -> Wake {
        let clock = self.clock, reloads = self.reloads
        do {
            return try await cancelWhenGracefulShutdown {
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
