import Foundation

extension PlannedSlot {
    /// What the log says of each item the planner had to leave out: a final row for an item of an explicit list
    /// that did not fit (`skipped`) or a name not in the library (`failed`); nil for what is only warned about
    /// (a pick short of segments, a picked one that did not fit).
    public func droppedRows(station: String?, device: String?) -> [(reason: DropReason, row: AiringRecord?)] {
        let explicit: Bool
        if case .play = slot.content { explicit = true } else { explicit = false }
        return dropped.map { reason in
            let closed: (reference: String, outcome: AiringOutcome)?
            switch reason {
            case let .doesNotFit(id, _, _) where explicit: closed = (id, .skipped)
            case let .notInLibrary(reference): closed = (reference, .failed)
            case .doesNotFit, .notEnoughSegments: closed = nil
            }
            guard let (reference, outcome) = closed else { return (reason, nil) }
            let isJingle = reference == slot.intro || reference == slot.outro
            return (reason, AiringRecord(slot: slot.id, slotStartsAt: startsAt, segmentID: reference, title: reference,
                                         path: reference, scheduledAt: startsAt, outcome: outcome, reason: reason.reason.detail,
                                         reasonCode: reason.reason.code, device: device, kind: isJingle ? .jingle : .segment, station: station))
        }
    }
}

/// What the daemon would air, day after day, on a virtual clock with a silent output (`loa simulate`): the
/// real planner plans each day from what the days before aired, and every planned item airs whole on its
/// second. What the planner leaves out gets the rows the daemon would write for it. Pure: the caller stores
/// the rows.
public struct Simulation: Sendable {
    public let planner: Planner
    public let slots: [Slot]
    public let library: [Segment]
    public let station: String
    /// The device name the rows carry: a simulated row must never pass for one that went to a loudspeaker.
    public static let device = "simulate"
    /// How often and when each segment aired, as of the last day simulated.
    public private(set) var history: AiringHistory

    public init(planner: Planner, slots: [Slot], library: [Segment], station: String, history: AiringHistory = AiringHistory()) {
        self.planner = planner
        self.slots = slots
        self.library = library
        self.station = station
        self.history = history
    }

    /// The rows of `date`, in the order the daemon would finish them.
    public mutating func airings(on date: LocalDate) -> [AiringRecord] {
        let day = planner.plan(date: date, slots: slots, library: library, history: history)
        var rows: [AiringRecord] = []
        for occurrence in day.slots {
            for item in occurrence.items {
                var row = AiringRecord(planned: item, in: occurrence, station: station, device: Simulation.device)
                row.outcome = .completed
                row.startedAt = item.startsAt
                row.endedAt = item.startsAt.addingTimeInterval(item.segment.durationSeconds)
                row.airedSeconds = item.segment.durationSeconds
                rows.append(row)
                if item.kind == .segment { history.record(item.segment.id, at: item.startsAt) }
            }
            rows += occurrence.droppedRows(station: station, device: Simulation.device).compactMap(\.row)
        }
        // Requests per week look back one week; older instants would only slow every later plan.
        let horizon = planner.calendar.instant(date.adding(days: -8), .midnight)
        for id in history.entries.keys { history.entries[id]?.recent.removeAll { $0 < horizon } }
        return rows
    }
}
