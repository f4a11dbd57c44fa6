import Foundation

/// What the log knows of one planned item when a program is handed over (at a slot's lead-in, or after a restart).
public enum ItemProgress: Sendable, Hashable {
    /// Planned and never started.
    case pending
    /// Its last row was closed part way (a preemption, the daemon stopped or died) once its audio had reached
    /// `reachedSeconds` into the file: the policy may go on with it in a row of its own.
    case cut(reachedSeconds: Double)
    /// Its row is final and nothing of it airs again.
    case closed
}

/// Every tolerance of the lateness and fit rules, in one place.
public struct ProgramTolerances: Sendable, Hashable {
    /// A first sample heard this close to its planned second is on time: the device's own placement jitter.
    public var onTimeSeconds = 0.02
    /// How far past the hard end an item may be expected to run and still play whole.
    public var endSeconds = 0.02
    /// Under `join`, how late an item may begin before it is joined where the clock is (the time a dropout put the
    /// audio back by is caught up there, so the item ends on its second).
    public var driftSeconds = 0.05
    /// Seconds lost below this leave a row `completed`.
    public var lostNoticedSeconds = 0.05
    /// A file that ends this much before the length measured at import was cut or damaged since.
    public var shortFileSeconds = 0.05
    /// How late an item may begin and still air from its start under any policy: late by a fraction of a second,
    /// an item loses that fraction at the hard end; it is never dropped for it. Under `whole`, how far past the hard
    /// end a late item may have to be cut before it is left out instead.
    public var lateAllowanceSeconds = 1.0

    public init() {}
}

/// What happened, as the output engine reports it to the program's state machine.
public enum ProgramEvent: Sendable, Hashable {
    /// The program was handed to the engine; `now` is when the first sample written would be heard.
    case handedOver(now: Date)
    /// An item's first sample is placed: heard at `audibleAt`, `fromSeconds` into the file, which is `fileSeconds` long.
    case started(item: Int, audibleAt: Date, fromSeconds: Double, fileSeconds: Double)
    /// The item on air stopped being written: `heardSeconds` of it aired in this row, its audio reached
    /// `reachedSeconds` into the file, and the next sample written would be heard at `nextAt`.
    case ended(item: Int, nextAt: Date, heardSeconds: Double, reachedSeconds: Double, how: ItemEnding)
    /// The device failed while nothing was on air (opening it, or in the silence before an item).
    case deviceLost(now: Date, reason: Reason)
    /// The device is open again.
    case deviceBack(now: Date)
    /// Retrying the device reached the time `retryDevice` gave: it is still lost.
    case deviceStillLost(now: Date, reason: Reason)
    /// A program that airs now (an announcement, an emergency) wants the air.
    case preemptionBegan(now: Date, reason: Reason)
    /// The preempting programs are heard; `now` is when the next sample written would be heard.
    case preemptionEnded(now: Date)
    /// The daemon is stopping.
    case stop(now: Date)
}

/// How the writing of an item stopped.
public enum ItemEnding: Sendable, Hashable {
    /// The file ended.
    case endOfFile
    /// The cut the state machine set (the hard end) was reached, with its fade.
    case reachedCut
    /// The fade the state machine asked for is over.
    case faded
    /// The file could not be read further.
    case failed(Reason)
    /// The device failed.
    case deviceLost(Reason)
}

/// Where and how an item airs.
public struct ItemAiring: Sendable, Hashable {
    public var item: Int
    /// Where in the file its first sample is.
    public var fromSeconds: Double
    /// When its first sample should be heard.
    public var at: Date
    /// Whether `fromSeconds` follows the wall clock: if the first sample is heard later than `at`, the engine
    /// enters that much further into the file (join).
    public var followsClock: Bool
    /// Whether this airing is a row of its own, continuing the item's last (closed) row.
    public var newRow: Bool
    /// The lateness policy that placed it, when it was placed late; nil on time and for what airs now.
    public var policy: LatenessPolicy?

    public init(item: Int, fromSeconds: Double, at: Date, followsClock: Bool, newRow: Bool, policy: LatenessPolicy?) {
        self.item = item
        self.fromSeconds = fromSeconds
        self.at = at
        self.followsClock = followsClock
        self.newRow = newRow
        self.policy = policy
    }
}

/// What the engine is told to do.
public enum ProgramAction: Sendable, Hashable {
    case air(ItemAiring)
    /// Fade the item on air out, to its end at `at` (the hard end).
    case cut(item: Int, at: Date)
    /// Fade the item on air out now, with the stop fade.
    case fade(item: Int)
    /// Close the item's current row.
    case close(item: Int, RowClosing)
    /// Retry the device until `until`, then report `deviceBack` or `deviceStillLost`.
    case retryDevice(until: Date)
    /// Let the preempting programs air, then report `preemptionEnded`.
    case yieldToPreemption
    /// Nothing of the program is left.
    case finished
}

/// How a row ends.
public struct RowClosing: Sendable, Hashable {
    public var outcome: AiringOutcome
    public var reason: Reason?
    public var airedSeconds: Double
    public var lostSeconds: Double
    public var policy: LatenessPolicy?
    /// Whether the row aired in this run: its end is when its last sample is heard. Otherwise it ends where it was
    /// (a row left open by a lost device) or never began.
    public var wasOnAir: Bool
    public init(outcome: AiringOutcome, reason: Reason?, airedSeconds: Double, lostSeconds: Double, policy: LatenessPolicy?,
                wasOnAir: Bool) {
        self.outcome = outcome
        self.reason = reason
        self.airedSeconds = airedSeconds
        self.lostSeconds = lostSeconds
        self.policy = policy
        self.wasOnAir = wasOnAir
    }
}

/// The one place where what airs is decided: a program's items, what the log knows of them, the hard end and the
/// slot's lateness policy, driven by what the engine reports. Pure: it returns decisions and the engine carries
/// them out, so every rule of lateness, fit, preemption, device loss and restart is here and nowhere else.
public struct ProgramStateMachine: Sendable {
    public let items: [PlannedItem]
    public let hardEnd: Date?
    public let policy: LatenessPolicy
    public let tolerances: ProgramTolerances

    enum Stage: Sendable, Hashable {
        case pending
        /// Given to the engine and not ended.
        case airing
        /// Its row closed part way: it may go on in a new row.
        case held
        /// Its row is open, the device was lost while it aired.
        case outage
        case closed
    }

    /// What is known of one item.
    struct Ledger: Sendable, Hashable {
        var stage: Stage
        /// Where its audio reached in the file, over every row.
        var reached = 0.0
        /// Of the current row.
        var heard = 0.0
        var lost = 0.0
        var started = false
        var policy: LatenessPolicy?
        /// What lost the row's lost seconds.
        var lossCause: ReasonCode?
        var hasRow = true
        /// Where the last placement put its first sample in the file.
        var placedFrom = 0.0
        /// Whether the current row was placed as a new row and has not started: the log does not have it yet.
        var rowIsNew = false
    }

    enum Phase: Sendable, Hashable {
        case waiting
        case airing(Int)
        case fading(Int, Reason, preempting: Bool)
        case preempted
        case deviceLost(Reason)
        case finished
    }

    var ledgers: [Ledger]
    var phase: Phase = .waiting
    /// Whether items follow each other at once: from the first sample aired, or once the program was entered late.
    /// Until then, the first item waits for its second.
    var following = false
    /// Whether a stop came.
    var stopping = false
    /// Whether `skip` acted: the rest of the occurrence is dropped.
    var skipping = false

    public init(items: [PlannedItem], progress: [ItemProgress]? = nil, hardEnd: Date?, policy: LatenessPolicy,
                tolerances: ProgramTolerances = ProgramTolerances()) {
        self.items = items
        self.hardEnd = hardEnd
        self.policy = policy
        self.tolerances = tolerances
        ledgers = (progress ?? items.map { _ in .pending }).map { state in
            switch state {
            case .pending: Ledger(stage: .pending)
            case let .cut(reached): Ledger(stage: .held, reached: reached, hasRow: false)
            case .closed: Ledger(stage: .closed)
            }
        }
    }

    public mutating func handle(_ event: ProgramEvent) -> [ProgramAction] {
        switch event {
        case let .handedOver(now):
            return advance(now)
        case let .started(item, audibleAt, from, fileSeconds):
            ledgers[item].started = true
            ledgers[item].rowIsNew = false
            following = true
            // Entered further in than placed (a join whose first sample came later than planned): that part is lost.
            ledgers[item].lost += max(0, from - ledgers[item].placedFrom)
            // A file longer than planned, or a start later than the plan allowed for, runs past the hard end: cut.
            guard let hardEnd, audibleAt.addingTimeInterval(fileSeconds - from - tolerances.endSeconds) > hardEnd else { return [] }
            return [.cut(item: item, at: hardEnd)]
        case let .ended(item, nextAt, heard, reached, how):
            return ended(item, nextAt: nextAt, heard: heard, reached: reached, how: how)
        case let .deviceLost(now, reason):
            guard case let .airing(item) = phase else { return [] }
            // Lost before the item's first sample: it is as it was, and re-entered when the device is back.
            if ledgers[item].stage == .airing { unplace(item) }
            return lose(reason, now: now)
        case let .deviceBack(now):
            guard case .deviceLost = phase else { return [] }
            phase = .waiting
            return stopping ? closeAll(now: now) : advance(now)
        case let .deviceStillLost(now, reason):
            return closeAll(now: now, failing: reason)
        case let .preemptionBegan(_, reason):
            guard case let .airing(item) = phase else { return phase == .waiting ? [.yieldToPreemption] : [] }
            if ledgers[item].started {
                phase = .fading(item, reason, preempting: true)
                return [.fade(item: item)]
            }
            unplace(item)
            phase = .preempted
            return [.yieldToPreemption]
        case let .preemptionEnded(now):
            guard phase == .preempted else { return [] }
            phase = .waiting
            return stopping ? closeAll(now: now) : advance(now)
        case let .stop(now):
            stopping = true
            switch phase {
            case .deviceLost:
                return closeAll(now: now)
            case let .airing(item) where ledgers[item].started:
                phase = .fading(item, Reason(.stopped), preempting: false)
                return [.fade(item: item)]
            case let .airing(item):
                unplace(item)
                return closeAll(now: now)
            case .waiting, .preempted:
                return closeAll(now: now)
            case .fading, .finished:
                return []
            }
        }
    }

    // MARK: - Rules

    mutating func ended(_ item: Int, nextAt: Date, heard: Double, reached: Double, how: ItemEnding) -> [ProgramAction] {
        let before = phase
        var ledger = ledgers[item]
        ledger.heard += heard
        ledger.reached = max(ledger.reached, reached)
        let planned = items[item].segment.durationSeconds
        var actions: [ProgramAction] = []
        switch how {
        case .endOfFile:
            ledgers[item] = ledger
            let result = outcomeAtEnd(item)
            // A file that ends early lost the rest of its planned length.
            if result.1?.code == .fileShort { ledgers[item].lost += max(0, planned - ledger.reached) }
            actions.append(close(item, result, wasOnAir: true))
        case .reachedCut:
            ledgers[item] = ledger
            actions.append(close(item, (.truncated, Reason(.cutHardEnd)), wasOnAir: true))
        case let .failed(reason):
            ledger.lost += max(0, planned - ledger.reached)
            ledgers[item] = ledger
            actions.append(close(item, (.failed, reason), wasOnAir: true))
        case .faded:
            ledgers[item] = ledger
            guard case let .fading(_, reason, preempting) = before else { break }
            actions.append(close(item, (.interrupted, reason), wasOnAir: true))
            if preempting && !stopping {
                // Its row is final; what is left of it may air in a row of its own once the preemption is over.
                ledgers[item].stage = .held
                ledgers[item].hasRow = false
                phase = .preempted
                return actions + [.yieldToPreemption]
            }
            phase = .waiting
            return actions + closeAll(now: nextAt)
        case let .deviceLost(reason):
            ledgers[item] = ledger
            unplace(item)
            return lose(reason, now: nextAt)
        }
        // It ended of itself while fading for a preemption: the preempting program comes first all the same.
        if case .fading(_, _, preempting: true) = before, !stopping {
            phase = .preempted
            return actions + [.yieldToPreemption]
        }
        phase = .waiting
        return actions + (stopping ? closeAll(now: nextAt) : advance(nextAt))
    }

    /// The outcome of a row whose file ended.
    func outcomeAtEnd(_ item: Int) -> (AiringOutcome, Reason?) {
        let ledger = ledgers[item], planned = items[item].segment.durationSeconds
        if planned > 0, planned - ledger.reached > tolerances.shortFileSeconds {
            return (.failed, Reason(.fileShort, ReasonCatalogue.number(ledger.reached)))
        }
        if ledger.reached < Segment.minimumSeconds { return (.failed, Reason(.fileEmpty, ReasonCatalogue.number(ledger.reached))) }
        if ledger.lost > tolerances.lostNoticedSeconds { return (.truncated, Reason(ledger.lossCause ?? .lateJoined)) }
        return (.completed, nil)
    }

    mutating func lose(_ reason: Reason, now: Date) -> [ProgramAction] {
        phase = .deviceLost(reason)
        let open = items.indices.filter { ledgers[$0].stage != .closed }
        let until = hardEnd ?? open.map { items[$0].endsAt }.max() ?? now
        return [.retryDevice(until: until)]
    }

    /// Closes the item's current row, if it has one, and marks it closed.
    mutating func close(_ item: Int, _ result: (AiringOutcome, Reason?), wasOnAir: Bool) -> ProgramAction {
        let ledger = ledgers[item]
        ledgers[item].stage = .closed
        let policy = items[item].kind.airsNow ? nil : ledger.policy
        return .close(item: item, RowClosing(outcome: result.0, reason: result.1, airedSeconds: ledger.heard, lostSeconds: ledger.lost,
                                             policy: policy, wasOnAir: wasOnAir))
    }

    /// Drops an item that will not air (any more): a pending one is skipped, one whose row is open (lost with the
    /// device) interrupted, one whose row is already final just closed.
    mutating func drop(_ item: Int, _ reason: Reason, policy: LatenessPolicy?) -> [ProgramAction] {
        let ledger = ledgers[item]
        switch ledger.stage {
        case .closed:
            return []
        case .held where !ledger.hasRow:
            ledgers[item].stage = .closed
            return []
        default:
            ledgers[item].lost += max(0, items[item].segment.durationSeconds - ledger.reached)
            ledgers[item].policy = policy
            return [close(item, (ledger.started ? .interrupted : .skipped, reason), wasOnAir: false)]
        }
    }

    /// Closes every row still open: after a stop, or when the device never came back.
    mutating func closeAll(now: Date, failing: Reason? = nil) -> [ProgramAction] {
        var actions: [ProgramAction] = []
        for item in items.indices {
            let ledger = ledgers[item]
            switch ledger.stage {
            case .closed: continue
            case .held where !ledger.hasRow:
                ledgers[item].stage = .closed
            default:
                if let failing {
                    ledgers[item].lost += max(0, items[item].segment.durationSeconds - ledger.reached)
                    actions.append(close(item, (.failed, failing), wasOnAir: false))
                } else {
                    actions.append(close(item, ledger.started ? (.interrupted, Reason(.stopped)) : (.skipped, Reason(.stoppedBeforeStart)),
                                         wasOnAir: false))
                }
            }
        }
        phase = .finished
        return actions + [.finished]
    }

    /// Decides the next item to air at `now`, dropping what will not air; `finished` when nothing is left.
    mutating func advance(_ now: Date) -> [ProgramAction] {
        var actions: [ProgramAction] = []
        for item in items.indices where ledgers[item].stage != .closed {
            switch place(item, now: now) {
            case let .air(airing):
                ledgers[item].stage = .airing
                ledgers[item].placedFrom = airing.fromSeconds
                if let policy = airing.policy { ledgers[item].policy = policy }
                phase = .airing(item)
                return actions + [.air(airing)]
            case let .drop(reason, policy):
                actions += drop(item, reason, policy: policy)
                // Entered late: what follows airs at once rather than leave silence until its planned second.
                following = true
            }
        }
        phase = .finished
        return actions + [.finished]
    }

    enum Placement { case air(ItemAiring), drop(Reason, LatenessPolicy?) }

    /// Where one item airs at `now`, or why it does not.
    mutating func place(_ index: Int, now: Date) -> Placement {
        let item = items[index], ledger = ledgers[index], tol = tolerances
        // A live relay is entered where the clock is, whatever the slot's policy: what was missed of it is gone.
        let policy = item.kind.airsNow ? LatenessPolicy.whole : item.kind == .relay ? .join : self.policy
        let length = item.segment.durationSeconds
        let resuming = ledger.stage == .held || ledger.stage == .outage
        let late = now.timeIntervalSince(item.startsAt)
        if skipping { return .drop(Reason(.latePolicySkip), item.kind.airsNow ? nil : .skip) }
        // On time: the first item waits for its second; after that, items follow each other with no gap.
        if !resuming && late <= tol.onTimeSeconds {
            return .air(airing(index, from: 0, at: following ? now : max(now, item.startsAt), followsClock: false, policy: nil))
        }
        let passed = now >= item.endsAt.addingTimeInterval(-tol.onTimeSeconds)
            || hardEnd.map { now >= $0.addingTimeInterval(-tol.onTimeSeconds) } == true
        let placedBy: LatenessPolicy? = item.kind.airsNow ? nil : policy
        // Its time is over: `join` and `next` drop it (`whole` airs what is left from now if it fits; `skip` drops the rest).
        if passed && (policy == .join || policy == .next) { return .drop(Reason(.latePassed), placedBy) }
        // Late by a fraction (a dropout put the audio back): it airs from its start, or under join is joined so that
        // it ends on its second.
        if !resuming && late <= tol.lateAllowanceSeconds && !(policy == .whole && !fits(index, from: 0, at: now)) {
            if policy == .join && late > tol.driftSeconds {
                return .air(join(index, at: now, cause: .lateJoined, policy: item.kind.airsNow ? nil : .join))
            }
            return .air(airing(index, from: 0, at: now, followsClock: false, policy: nil))
        }
        switch policy {
        case .join:
            return .air(join(index, at: now, cause: resuming ? (ledger.stage == .outage ? .deviceLost : .resumed) : .lateJoined,
                             policy: placedBy))
        case .next:
            // The item on the clock gives way to the next one, which then starts at once.
            return .drop(Reason(.lateOnTheClock), placedBy)
        case .skip:
            skipping = true
            return .drop(Reason(.latePolicySkip), placedBy)
        case .whole:
            // Goes on where it was cut; what is left must air whole before the hard end.
            let from = resuming ? ledger.reached : 0
            guard fits(index, from: from, at: now) else {
                let left = hardEnd.map { max(0, $0.timeIntervalSince(now)) } ?? .infinity
                return .drop(ReasonCatalogue.wouldNotFit(neededSeconds: length - from, leftSeconds: left), placedBy)
            }
            var placed = airing(index, from: from, at: now, followsClock: false, policy: placedBy)
            placed.newRow = ledger.stage == .held && !ledger.hasRow
            if placed.newRow { resetRow(index, cause: .resumed) }
            return .air(placed)
        }
    }

    /// Whether what is left of the item from `from`, begun at `at`, ends before the hard end (within the late allowance).
    func fits(_ index: Int, from: Double, at: Date) -> Bool {
        guard let hardEnd else { return true }
        let left = items[index].segment.durationSeconds - from
        return at.addingTimeInterval(left - tolerances.lateAllowanceSeconds - tolerances.endSeconds) <= hardEnd
    }

    /// Enters the item where the wall clock is in it, counting what is skipped as lost.
    mutating func join(_ index: Int, at now: Date, cause: ReasonCode, policy: LatenessPolicy?) -> ItemAiring {
        let from = max(ledgers[index].reached, now.timeIntervalSince(items[index].startsAt))
        var placed = airing(index, from: from, at: now, followsClock: true, policy: policy)
        placed.newRow = ledgers[index].stage == .held && !ledgers[index].hasRow
        if placed.newRow { resetRow(index, cause: cause) }
        ledgers[index].lost += max(0, from - ledgers[index].reached)
        if ledgers[index].lossCause == nil { ledgers[index].lossCause = cause }
        return placed
    }

    func airing(_ index: Int, from: Double, at: Date, followsClock: Bool, policy: LatenessPolicy?) -> ItemAiring {
        ItemAiring(item: index, fromSeconds: from, at: at, followsClock: followsClock, newRow: false,
                   policy: items[index].kind.airsNow ? nil : policy)
    }

    /// Takes back a placement whose first sample never came: the item is as it was before it.
    mutating func unplace(_ index: Int) {
        if ledgers[index].started {
            ledgers[index].stage = .outage
        } else if ledgers[index].rowIsNew || !ledgers[index].hasRow {
            // The new row was never written: placing it again makes it anew.
            ledgers[index].hasRow = false
            ledgers[index].rowIsNew = false
            ledgers[index].stage = .held
        } else {
            ledgers[index].stage = .pending
        }
    }

    /// Starts a new row for an item whose last row is final.
    mutating func resetRow(_ index: Int, cause: ReasonCode) {
        ledgers[index].rowIsNew = true
        ledgers[index].hasRow = true
        ledgers[index].heard = 0
        ledgers[index].lost = 0
        ledgers[index].started = false
        ledgers[index].lossCause = cause
    }
}
