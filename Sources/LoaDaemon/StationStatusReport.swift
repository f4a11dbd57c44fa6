import Foundation
import LoaAudio
import LoaConfig
import LoaCore
import LoaFeed
import LoaStore

/// What only the running daemon knows, for `loa status`: when it started, the sound device's state as the
/// engine last reported it, and each feed's last poll. Written from the playout and feed services, read by the
/// control channel.
public final class DaemonHealth: @unchecked Sendable {
    public struct DeviceState: Sendable, Equatable {
        public var ok: Bool
        public var message: String?
        public var since: Date
    }

    public struct FeedPoll: Sendable, Equatable {
        public var at: Date
        /// `warning`: accepted with entries refused.
        public var result: HealthVerdict
        public var message: String
    }

    public let startedAt: Date
    let clock: any WallClock
    private let lock = NSLock()
    private var device: DeviceState?
    private var feeds: [String: FeedPoll] = [:]
    private var relays: [ObjectIdentifier: UpstreamFeed] = [:]

    public init(clock: any WallClock) {
        self.clock = clock
        startedAt = clock.now()
    }

    /// A sample was written (`at`), or the device came back.
    func deviceWorks(at instant: Date) {
        lock.withLock {
            if device?.ok != true { device = DeviceState(ok: true, message: nil, since: instant) }
        }
    }

    func deviceLost(_ message: String) {
        let now = clock.now()
        lock.withLock {
            if device?.ok != false || device?.message != message { device = DeviceState(ok: false, message: message, since: now) }
        }
    }

    func polled(_ report: FeedFetchReport) {
        let result: HealthVerdict = switch report.manifest {
        case .refused: .fail
        case .accepted, .unchanged: report.refused.isEmpty ? .ok : .warning
        }
        let poll = FeedPoll(at: clock.now(), result: result, message: report.summary)
        lock.withLock { feeds[report.feed] = poll }
    }

    /// A relay's upstream is received from now until ``relayClosed(_:)``.
    func relayOpened(_ feed: UpstreamFeed) { lock.withLock { relays[ObjectIdentifier(feed)] = feed } }
    func relayClosed(_ feed: UpstreamFeed) { lock.withLock { _ = relays.removeValue(forKey: ObjectIdentifier(feed)) } }

    /// The relays received now, as `loa status` shows them.
    public var relayStatus: [StationStatus.Relay] {
        lock.withLock { Array(relays.values) }.map { feed in
            let now = feed.snapshot(), source = feed.source
            return StationStatus.Relay(source: source.name, label: source.label, address: source.address, state: now.state.rawValue,
                                       buffered_seconds: now.bufferedSeconds, level_dbfs: now.levelDB.isFinite ? now.levelDB : nil,
                                       format: now.format, drift_percent: now.correction * 100, fault_code: now.fault?.code.rawValue,
                                       fault: now.fault.map { ReasonCatalogue.sentence($0) })
        }.sorted { $0.source < $1.source }
    }

    public var deviceState: DeviceState? { lock.withLock { device } }
    public func lastPoll(_ feed: String) -> FeedPoll? { lock.withLock { feeds[feed] } }
}

extension Station {
    /// The status at `now` from what the files and the log say, with what the running daemon adds when `daemon`
    /// is given (nil: the daemon is not running). `host` gives the host's checks (disk, clock).
    public func status(now: Date, daemon: (health: DaemonHealth, pid: Int32)?, host: [StationStatus.Check]) throws -> StationStatus {
        let calendar = config.calendar
        let today = calendar.localDate(of: now)
        // One read serves today's figures and the item on air (a slot that began before midnight may still air).
        let midnight = calendar.instant(today, .midnight)
        let recent = try log.records(from: min(midnight, now.addingTimeInterval(-86400)),
                                     to: calendar.instant(today.adding(days: 1), .midnight))
        let rows = recent.filter { $0.scheduledAt >= midnight }
        var counts: [String: Int] = [:]
        for row in rows where row.outcome != .planned { counts[row.outcome.rawValue, default: 0] += 1 }

        // On air: the item the engine said it started and has not ended. Only the running daemon airs: a row
        // left `started` by a daemon that died is closed at its next start.
        var onAir: StationStatus.OnAir? = nil
        if daemon != nil, let row = recent.last(where: { $0.outcome == .started }), let started = row.startedAt {
            // An item entered mid-way on the clock (late = join) ends where its plan said; a stretch resumed from
            // `fromSeconds` has the rest of the file to air.
            let ends = row.policy == .join ? row.scheduledAt.addingTimeInterval(row.plannedSeconds)
                : started.addingTimeInterval(row.plannedSeconds - row.fromSeconds - row.lostSeconds)
            onAir = StationStatus.OnAir(slot: row.slot, title: row.title, kind: row.kind.rawValue, started_at: calendar.rfc3339(started),
                                        elapsed_seconds: max(0, now.timeIntervalSince(started)),
                                        remaining_seconds: max(0, ends.timeIntervalSince(now)))
        }

        let library = try self.library.all()
        let history = try log.history(recentSince: now.addingTimeInterval(-8 * 86400))
        var next: [StationStatus.Next] = []
        var from = now, taken: Set<String> = []
        while next.count < 3, let occurrence = planner.nextOccurrence(atOrAfter: from, slots: schedules.slots, taken: taken) {
            if occurrence.startsAt != from { taken = [] }
            from = occurrence.startsAt
            taken.insert(occurrence.slot.id)
            // Skip one that started already (it is on air, or was): "next" is what has yet to begin.
            guard occurrence.startsAt > now else { continue }
            let plan = planner.plan(slot: occurrence.slot, startsAt: occurrence.startsAt, library: library, history: history)
            next.append(StationStatus.Next(slot: occurrence.slot.id, starts_at: calendar.rfc3339(occurrence.startsAt),
                                           ends_at: plan.endsAt.map(calendar.rfc3339),
                                           items: plan.items.map { ($0.kind == .segment ? "" : "♪ ") + $0.segment.title },
                                           dropped: plan.dropped.map(\.description)))
        }

        let states = FeedStates(database)
        let feeds = try config.feeds.map { feed in
            let state = try states.state(feed.name)
            let poll = daemon?.health.lastPoll(feed.name)
            let pending = FeedFetcher.pending(feed: feed.name, audio: config.audio, library: library, on: today)
            return StationStatus.Feed(
                name: feed.name, url: feed.url, last_poll_at: poll.map { calendar.rfc3339($0.at) },
                last_result: poll?.result, last_message: poll?.message, checked_at: state.checkedAt.map(calendar.rfc3339),
                accepted_at: state.acceptedAt.map(calendar.rfc3339), expires_at: state.expires.map(calendar.rfc3339),
                missing: pending.filter { !state.rejected.contains($0.sha256) }.map(\.title),
                refused: pending.filter { state.rejected.contains($0.sha256) }.map(\.title))
        }

        let deviceState = daemon?.health.deviceState
        let device = StationStatus.Device(
            name: config.device, state: deviceState.map { $0.ok ? "ok" : "lost" } ?? "unknown", message: deviceState?.message,
            since: deviceState.map { calendar.rfc3339($0.since) }, xruns_today: rows.reduce(0) { $0 + $1.xruns },
            failures_today: rows.filter { [.failed, .truncated, .interrupted].contains($0.outcome) }.count)

        let running = daemon.map { daemon in
            StationStatus.Daemon(running: true, pid: daemon.pid, started_at: calendar.rfc3339(daemon.health.startedAt),
                                 uptime_seconds: now.timeIntervalSince(daemon.health.startedAt))
        } ?? StationStatus.Daemon(running: false)
        var status = StationStatus(station: config.station, generated_at: calendar.rfc3339(now), daemon: running, on_air: onAir,
                                   next: next, feeds: feeds, device: device, today: counts, host: host,
                                   schedule_problems: schedules.problems.map(\.description))
        status.relays = daemon?.health.relayStatus ?? []
        return status
    }
}

extension Station {
    /// The host's checks for `loa status`, judged as `loa doctor` judges them: free space where the database and the
    /// audio are, and whether the clock is synchronised.
    public func hostChecks(now: Date, systemZone: TimeZone = .current) -> [StationStatus.Check] {
        Doctor.hostFindings(config, systemZone: systemZone, now: now).map { StationStatus.Check(check: $0.subject, verdict: $0.verdict, message: $0.message) }
    }
}
