import Foundation
import LoaAudio
import LoaCore
import LoaStore
import Logging

/// One occurrence of a slot, from its stored plan to its rows: the plan is written to the log (`planned`
/// rows) before the occurrence airs, and each row is finished from what the engine reports. The engine
/// never writes the log: its events are written here, off the output thread.
public struct OccurrenceAiring: Sendable {
    public let slot: Slot
    public let startsAt: Date
    public let hardEnd: Date?
    /// The stored plan: one row per planned item, in order (rows for what the planner left out are not in it).
    public let rows: [AiringRecord]
    public let audioFolder: URL
    public let device: String
    /// Every write goes through the daemon's one writer, which holds what the disk refuses.
    public let log: AiringLogWriter
    public let logger: Logger
    /// The on-air check, when `loa.toml` names a `monitor`: each finished row carries its verdict.
    public var monitor: OnAirMonitor? = nil
    /// Told of the device's state as the engine reports it, for `loa status`.
    public var health: DaemonHealth? = nil
    /// For a relay slot: its upstream, received from the relay's lead, and the fallback loop.
    public var relay: RelayPlan? = nil
    /// The station's calendar, for the times its log lines name.
    var calendar: StationCalendar? = nil
    /// The station's name, as its rows carry it.
    var station: String? { rows.first?.station }

    /// Reads the occurrence's stored plan, or plans it now and stores the plan. What the planner had to
    /// leave out of an explicit list gets a final row of its own, so the log says what happened to it.
    /// A relay slot's upstream starts being received here (`clock` times its connections).
    public static func prepare(_ slot: Slot, startsAt: Date, station: Station, log: AiringLogWriter,
                               logger: Logger, monitor: OnAirMonitor? = nil, clock: (any WallClock)? = nil) throws -> OccurrenceAiring {
        var rows = try log.occurrence(slot: slot.id, startsAt: startsAt)
        let end = slot.lengthSeconds.map { startsAt.addingTimeInterval(Double($0)) }
        var relaySpec: RelaySpec?
        if case let .relay(spec) = slot.content { relaySpec = spec }
        // A relay's fallback loop is planned at every visit: the library may have changed since the plan was stored.
        var plan: PlannedSlot?
        if rows.isEmpty || relaySpec != nil {
            plan = station.planner.plan(slot: slot, startsAt: startsAt, library: try station.library.all(),
                                        history: try log.history(recentSince: startsAt.addingTimeInterval(-8 * 86400)))
        }
        if rows.isEmpty, let plan {
            let planned = plan.items.map { item in
                var row = AiringRecord(planned: item, in: plan, station: station.config.station, device: station.config.device)
                // A relay's row is named by its source's label, as people know it (“Tiếp sóng VOV1”).
                if let name = Planner.relaySource(ofSegment: item.segment.id), let source = station.config.source(named: name) {
                    row.title = Planner.relayTitle(source.label)
                }
                return row
            }
            rows = try log.store(planned)
            logDropped(plan, station: station.config.station, device: station.config.device, log: log, logger: logger)
        }
        var airing = OccurrenceAiring(slot: slot, startsAt: startsAt, hardEnd: end, rows: rows.filter { $0.plannedSeconds > 0 },
                                      audioFolder: station.config.audio, device: station.config.device, log: log, logger: logger,
                                      monitor: monitor)
        airing.calendar = station.config.calendar
        if let relaySpec, let clock, !airing.isClosed {
            if let source = station.config.source(named: relaySpec.source) {
                airing.relay = RelayPlan(source: source, feed: UpstreamFeed(source: source, clock: clock), fallback: plan?.fallback ?? [])
            } else {
                logger.error("\(slot.location(of: "relay")): \(ReasonCatalogue.sentence(Reason(.relayUnknownSource, relaySpec.source)))")
            }
        }
        return airing
    }

    /// The segments it may air: its items, and a relay's fallback loop.
    public var segmentIDs: Set<String> { Set(rows.map(\.segmentID) + (relay?.fallback.map(\.segment.id) ?? [])) }

    /// The planned items, in order: the first row of each (a row continuing another is a later stretch of its item).
    public var itemRows: [AiringRecord] { rows.filter { $0.continues == nil } }

    /// Each item's last row: the stretch that says where the item stands.
    var lastRows: [AiringRecord] {
        itemRows.map { first in
            var last = first
            while let next = rows.first(where: { $0.continues != nil && $0.continues == last.id }) { last = next }
            return last
        }
    }

    /// What the log knows of each item: a last row closed part way (a preemption, the daemon stopped or died) is where
    /// the item may go on from, by the policy.
    public var progress: [ItemProgress] {
        lastRows.map { row in
            switch row.outcome {
            case .planned, .started: .pending
            case .interrupted: .cut(reachedSeconds: row.fromSeconds + row.airedSeconds)
            default: .closed
            }
        }
    }

    /// Whether nothing of it is left to decide: every item's last row final, none cut part way.
    public var isClosed: Bool { progress.allSatisfy { $0 == .closed } }

    /// When the planned content ends.
    public var contentEndsAt: Date { itemRows.map { $0.scheduledAt.addingTimeInterval($0.plannedSeconds) }.max() ?? startsAt }

    static func logDropped(_ plan: PlannedSlot, station: String, device: String, log: AiringLogWriter, logger: Logger) {
        for (reason, row) in plan.droppedRows(station: station, device: device) {
            guard let row else {
                logger.warning("\(plan.slot.id): \(reason)")
                continue
            }
            do { try log.insert(row) } catch { logger.error("\(error)") }
        }
    }

    /// The program the engine airs: every planned item, with what the log says of it, each from its source in
    /// `sources` (by segment id: the playout copy and the gain); the rows keep the original's path.
    public func program(sources: [String: PlayoutSource]) -> PlayoutProgram {
        PlayoutProgram(
            cues: itemRows.map { row in
                let source = sources[row.segmentID] ?? PlayoutSource()
                let relayCue = row.kind == .relay ? relay.map { relay in
                    RelayCue(feed: relay.feed, fallback: relay.fallback.map { item in
                        let source = sources[item.segment.id] ?? PlayoutSource()
                        return FallbackCue(item: item, path: source.path ?? absolute(item.segment.path), gainDB: source.gainDB)
                    })
                } : nil
                return PlayoutCue(item: row.plannedItem, path: source.path ?? absolute(row.path),
                                  gainDB: source.gainDB, truePeakDBTP: source.truePeakDBTP, relay: relayCue)
            },
            progress: progress, hardEnd: hardEnd, policy: slot.late)
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : audioFolder.appendingPathComponent(path).path
    }

    /// Airs the occurrence on `engine` (queued behind what it airs already) and returns when its last
    /// sample has been heard and every row is written. The output thread only hands events to a serial
    /// writer queue, so a slow disk never blocks audio, and no event is lost if the task is cancelled.
    public func air(on engine: PlayoutEngine, sources: [String: PlayoutSource] = [:], preempting: Bool = false) async {
        let writer = DispatchQueue(label: "loa-airing-log")
        let program = self.program(sources: sources)
        let current = CurrentRows(lastRows), relayRows = RelayRowsState()
        if preempting {
            await engine.preempt(program) { event in writer.async { record(event, current, relayRows) } }
        } else {
            await engine.play(program) { event in writer.async { record(event, current, relayRows) } }
        }
        await withCheckedContinuation { (written: CheckedContinuation<Void, Never>) in writer.async { written.resume() } }
        if let feed = relay?.feed {
            feed.close()
            health?.relayClosed(feed)
        }
    }

    /// Writes what the engine reported, on the log's writer queue.
    func record(_ event: PlayoutEvent, _ current: CurrentRows, _ relayRows: RelayRowsState = RelayRowsState()) {
        switch event {
        case let .relay(cue, report):
            recordRelay(report, cue: cue, current: current, state: relayRows)
        case let .ended(cue, itemClosing, endedAt, xruns) where current[cue].kind == .relay:
            relayRows.leave(at: endedAt ?? .distantPast)
            let closing = RelayRows.closing(itemClosing, relayedSeconds: relayRows.relayedSeconds(upTo: nil),
                                            firstFallback: relayRows.firstFallback)
            finishRow(cue, closing, endedAt: endedAt, xruns: xruns, current)
        case let .starting(cue, audibleAt, from, policy, newRow):
            health?.deviceWorks(at: audibleAt)
            var row = current[cue]
            if newRow, let id = row.id {
                // A new stretch of an item whose last row is final: a row of its own, continuing that one.
                do { row = try log.insertStretch(continuing: id, fromSeconds: from) } catch { logger.error("\(error)") }
                current[cue] = row
            }
            if let id = row.id {
                do { try log.markStarted(id: id, startedAt: audibleAt, policy: policy, fromSeconds: from) } catch { logger.error("\(error)") }
                monitor?.began(id, title: row.title, audibleAt: audibleAt)
            }
            current[cue].startedAt = audibleAt
            let onset = Int((audibleAt.timeIntervalSince(row.scheduledAt.addingTimeInterval(from)) * 1000).rounded())
            if row.kind.airsNow {
                logger.info("Phát \(row.kind.label) “\(row.title)”, \(onset) ms sau lệnh (sau khi mục đang phát giảm dần âm lượng)")
            } else if newRow {
                logger.info("Phát tiếp “\(row.title)” (\(slot.id)) từ \(formatSeconds(from)) (late = \(slot.late.rawValue))")
            } else {
                let entry = policy.map { ", vào muộn \(formatSeconds(from)) (late = \($0.rawValue))" } ?? ""
                logger.info("Phát “\(row.title)” (\(slot.id)), lệch \(onset) ms\(entry)")
            }
        case let .ended(cue, closing, endedAt, xruns):
            finishRow(cue, closing, endedAt: endedAt, xruns: xruns, current)
        case let .progress(cue, aired):
            if let id = current[cue].id {
                do { try log.recordProgress(id: id, airedSeconds: aired) } catch { logger.error("\(error)") }
            }
        case let .deviceLost(message):
            health?.deviceLost(message)
            logger.error("Mất thiết bị âm thanh: \(message); thử lại mỗi 0,5 giây")
        case let .dropout(cue, seconds):
            logger.warning("\(ReasonCatalogue.dropout(seconds: seconds, title: current[cue].title, device: device))")
        case let .deviceBack(at):
            health?.deviceWorks(at: at)
            logger.notice("Thiết bị âm thanh “\(device)” đã trở lại; phát tiếp theo giờ (late = \(slot.late.rawValue))")
        }
    }
}

extension OccurrenceAiring {
    /// Closes the cue's row with what the engine (or, for a relay, ``RelayRows``) decided.
    func finishRow(_ cue: Int, _ closing: RowClosing, endedAt: Date?, xruns: Int, _ current: CurrentRows) {
        let row = current[cue]
        // Waits (bounded) for the monitor's last windows of the item: this is the log writer's queue, not audio.
        let verdict = row.id.flatMap { monitor?.verdict($0, from: row.startedAt, to: endedAt) }
        if let id = row.id {
            do {
                try log.finish(id: id, outcome: closing.outcome, endedAt: endedAt, airedSeconds: closing.airedSeconds,
                               reason: closing.reason, xruns: xruns, lostSeconds: closing.lostSeconds, policy: closing.policy,
                               confirmed: verdict?.confirmed, monitorDBFS: verdict?.dbfs)
            } catch {
                logger.error("\(error)")
            }
        }
        let heard = verdict.map { "; đường kiểm tra: \($0.confirmed.label) (\(decimalText($0.dbfs)) dBFS)" } ?? ""
        if closing.outcome == .completed && verdict?.confirmed != .silent {
            logger.info("Xong “\(row.title)”: \(formatSeconds(closing.airedSeconds))\(heard)")
        } else {
            var figures = ReasonCatalogue.Figures(row)
            figures.airedSeconds = closing.airedSeconds
            figures.lostSeconds = closing.lostSeconds
            figures.policy = closing.policy
            let why = closing.reason.map { " — \(ReasonCatalogue.sentence($0, figures))" } ?? ""
            logger.warning("“\(row.title)”: \(closing.outcome.label)\(why)\(heard)")
        }
    }
}

/// Each item's current row while an occurrence airs: a new stretch replaces it. Touched only on the log's serial
/// writer queue; the lock makes that safe to say to the compiler.
final class CurrentRows: @unchecked Sendable {
    private let lock = NSLock()
    private var rows: [AiringRecord]
    init(_ rows: [AiringRecord]) { self.rows = rows }
    subscript(cue: Int) -> AiringRecord {
        get { lock.withLock { rows[cue] } }
        set { lock.withLock { rows[cue] = newValue } }
    }
}
