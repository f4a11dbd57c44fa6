import Foundation
import LoaAudio
import LoaCore
import LoaStore
import Logging

/// A relay slot's upstream while its occurrence is prepared and airs: received from the relay's lead (before the
/// slot), closed once the occurrence is done.
public struct RelayPlan: Sendable {
    public let source: UpstreamSource
    public let feed: UpstreamFeed
    /// The fallback loop, as planned.
    public let fallback: [PlannedItem]
}

/// What the log writer keeps of a relay while it airs: since when the upstream is heard, what it totals, the
/// fallback row on air. Touched only on the log's serial writer queue (hence unchecked).
final class RelayRowsState: @unchecked Sendable {
    private var relayingSince: Date?
    private var relayed = 0.0
    private var fallbackRow: (id: Int64, index: Int, reason: Reason)?
    private(set) var firstFallback: Reason?

    func relaying(at: Date) {
        if relayingSince == nil { relayingSince = at }
    }

    /// The upstream stops being heard at `at`.
    func leave(at: Date) {
        if let since = relayingSince { relayed += max(0, at.timeIntervalSince(since)) }
        relayingSince = nil
    }

    func relayedSeconds(upTo at: Date?) -> Double {
        relayed + (relayingSince.map { since in at.map { max(0, $0.timeIntervalSince(since)) } ?? 0 } ?? 0)
    }

    func fallbackStarted(id: Int64, index: Int, reason: Reason) {
        fallbackRow = (id, index, reason)
        lost(reason)
    }

    /// The upstream is not heard, for `reason` (with or without a fallback to air).
    func lost(_ reason: Reason) {
        if firstFallback == nil { firstFallback = reason }
    }

    func takeFallback() -> (id: Int64, index: Int, reason: Reason)? {
        defer { fallbackRow = nil }
        return fallbackRow
    }
}

extension OccurrenceAiring {
    private func clockTime(_ instant: Date) -> String { calendar?.clockTime(instant) ?? RFC3339.threeDecimals(instant.timeIntervalSince1970) }

    /// Writes a relay's switches: fallback rows of their own, the upstream's connections in the daemon's log.
    func recordRelay(_ report: RelayReport, cue: Int, current: CurrentRows, state: RelayRowsState) {
        guard let relay else { return }
        let label = "\(relay.source.label) (\(relay.source.address))"
        switch report {
        case let .upstream(.connected(at, format)):
            logger.notice("Tiếp sóng \(label): đã kết nối lúc \(clockTime(at)), \(format)")
        case let .upstream(.lost(at, reason, _)):
            let wait = formatSeconds(relay.source.tuning.reconnectSeconds)
            logger.warning("Tiếp sóng \(label): \(ReasonCatalogue.sentence(reason)) (lúc \(clockTime(at))); kết nối lại sau \(wait) trở lên")
        case let .mix(.relaying, at):
            state.relaying(at: at)
            logger.notice("Đang tiếp sóng \(relay.source.label)")
        case let .mix(.fallbackStarted(index, reason), at):
            state.leave(at: at)
            guard relay.fallback.indices.contains(index) else {
                state.lost(reason)
                logger.error("Tiếp sóng \(relay.source.label): \(ReasonCatalogue.sentence(reason)) — không có dự phòng (fallback), loa im lặng đến khi có nguồn")
                return
            }
            let item = relay.fallback[index]
            var row = AiringRecord(planned: item.segment, slot: slot.id, slotStartsAt: startsAt, scheduledAt: at, station: station,
                                   device: device, kind: item.kind)
            row.codedReason = reason
            do {
                let stored = try log.store([row])[0]
                if let id = stored.id {
                    try log.markStarted(id: id, startedAt: at, policy: nil)
                    state.fallbackStarted(id: id, index: index, reason: reason)
                }
            } catch {
                logger.error("\(error)")
            }
            logger.warning("Tiếp sóng \(relay.source.label): \(ReasonCatalogue.sentence(reason)) — phát dự phòng “\(item.segment.title)”")
        case let .mix(.fallbackEnded(index, heard, returned, failed), at):
            guard let row = state.takeFallback(), relay.fallback.indices.contains(index) else { return }
            let closing = RelayRows.fallbackClosing(heardSeconds: heard, plannedSeconds: relay.fallback[index].segment.durationSeconds,
                                                    returned: returned, failed: failed, lossReason: row.reason)
            do {
                try log.finish(id: row.id, outcome: closing.outcome, endedAt: at, airedSeconds: closing.airedSeconds,
                               reason: closing.reason, xruns: 0, lostSeconds: closing.lostSeconds)
            } catch {
                logger.error("\(error)")
            }
        }
    }
}
