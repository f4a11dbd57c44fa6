import Foundation
import GRDB
import LoaCore

/// One write to the airing log, as a value: what the daemon asks of the log can be held, spooled to a file and
/// written later, in order, when the disk refuses it now. Rows are named by id, given before they are written
/// (``AiringLogWriter``), so a write can name a row whose own insert is still waiting.
public enum LogWrite: Sendable, Codable, Equatable {
    /// Rows with their ids set, in one transaction (the stored plan of an occurrence, or one row).
    /// (A stretch of an item resumed is an insert too: its planned fields are copied when it is asked for.)
    case insert([AiringRecord])
    case markStarted(id: Int64, startedAt: Date, policy: LatenessPolicy?, fromSeconds: Double? = nil)
    case progress(id: Int64, airedSeconds: Double)
    /// `reason` is the reason's detail and `reasonCode` its code (``AiringRecord/reason``): kept apart, so that a
    /// spool written before codes (the sentence alone) still reads back, as a row without a code.
    case finish(id: Int64, outcome: AiringOutcome, endedAt: Date?, airedSeconds: Double, reason: String?, xruns: Int,
                lostSeconds: Double, policy: LatenessPolicy?, confirmed: OnAirConfirmation? = nil, monitorDBFS: Double? = nil,
                reasonCode: ReasonCode? = nil)
    case closePlanned(slot: String, startsAt: Date, reason: String?, reasonCode: ReasonCode? = nil)
    case closeAbandoned(reason: String?, reasonCode: ReasonCode? = nil)

    /// The largest row id the write names: ids handed out after a restart start above those of a spool replayed.
    public var largestID: Int64? {
        switch self {
        case let .insert(records): records.compactMap(\.id).max()
        case let .markStarted(id, _, _, _), let .progress(id, _), let .finish(id, _, _, _, _, _, _, _, _, _, _): id
        case .closePlanned, .closeAbandoned: nil
        }
    }
}

extension AiringLog {
    /// Writes `write`; returns how many rows it changed. With `replaying` (a spool read at start, which may hold
    /// writes that went in before the crash) a write the row already shows is skipped, so each lands once.
    @discardableResult
    public func apply(_ write: LogWrite, replaying: Bool = false) throws(StoreError) -> Int {
        switch write {
        case let .insert(records):
            return try insert(records, ignoringWritten: replaying).count
        case let .markStarted(id, startedAt, policy, fromSeconds):
            if replaying, try outcome(id: id) != .planned { return 0 }
            try markStarted(id: id, startedAt: startedAt, policy: policy, fromSeconds: fromSeconds)
            return 1
        case let .progress(id, airedSeconds):
            try recordProgress(id: id, airedSeconds: airedSeconds)
            return 1
        case let .finish(id, outcome, endedAt, airedSeconds, reason, xruns, lostSeconds, policy, confirmed, monitorDBFS, code):
            if replaying, try self.outcome(id: id)?.isFinal != false { return 0 }
            try finish(id: id, outcome: outcome, endedAt: endedAt, airedSeconds: airedSeconds, detail: reason, code: code,
                       xruns: xruns, lostSeconds: lostSeconds, policy: policy, confirmed: confirmed, monitorDBFS: monitorDBFS)
            return 1
        case let .closePlanned(slot, startsAt, reason, code):
            return try closePlanned(slot: slot, startsAt: startsAt, detail: reason, code: code)
        case let .closeAbandoned(reason, code):
            return try closeAbandoned(detail: reason, code: code).count
        }
    }

    /// The outcome of row `id`, nil when there is no such row.
    func outcome(id: Int64) throws(StoreError) -> AiringOutcome? {
        try database.read { db in
            try String.fetchOne(db, sql: "SELECT outcome FROM airing WHERE id = ?", arguments: [id]).flatMap(AiringOutcome.init(rawValue:))
        }
    }

    /// The first id no row has had: above the largest stored and above any AUTOINCREMENT handed out (a deleted
    /// row's id is not reused).
    public func nextFreeID() throws(StoreError) -> Int64 {
        try database.read { db in
            let stored = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM airing") ?? 0
            let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'airing'") ?? 0
            return max(stored, sequence) + 1
        }
    }
}

/// Log writes the disk refused, kept in order until they go in: the functional core of ``AiringLogWriter``.
/// Nothing here touches a disk; `apply` does.
public struct PendingWrites: Sendable {
    /// A held write; `replaying` when it was read back from the spool at start.
    public struct Held: Sendable, Equatable {
        public var write: LogWrite
        public var replaying: Bool
        public init(_ write: LogWrite, replaying: Bool = false) {
            self.write = write
            self.replaying = replaying
        }
    }

    /// What one ``flush(then:apply:)`` did.
    public struct Flush: Sendable {
        /// Writes that went in, held ones first.
        public var written: [LogWrite] = []
        /// The new write, when it is now held behind an earlier one or failed itself: it must go to the spool.
        public var newlyHeld: LogWrite?
        /// The disk's refusal that stopped the flush, nil when everything went in.
        public var failure: StoreError?
        /// Writes the database refused for themselves (not the disk): retrying cannot help, so they are dropped.
        public var dropped: [(LogWrite, StoreError)] = []
        /// Rows the new write changed, when it went in.
        public var changed: Int?
    }

    public private(set) var held: [Held] = []

    public init(held: [Held] = []) { self.held = held }

    public var isEmpty: Bool { held.isEmpty }

    /// Writes what is held, then `write`, in order, through `apply`; stops at the first disk fault and keeps the
    /// rest, `write` included, in order. Nothing overtakes a held write: a row is never finished before it is
    /// stored.
    public mutating func flush(then write: LogWrite?,
                               apply: (LogWrite, _ replaying: Bool) throws(StoreError) -> Int) -> Flush {
        var result = Flush()
        var queue = held
        if let write { queue.append(Held(write)) }
        var index = 0
        while index < queue.count {
            let item = queue[index]
            do throws(StoreError) {
                let changed = try apply(item.write, item.replaying)
                result.written.append(item.write)
                if write != nil && index == held.count { result.changed = changed }
            } catch where error.isDiskFault {
                result.failure = error
                break
            } catch {
                result.dropped.append((item.write, error))
            }
            index += 1
        }
        // The new write sits last, at `held.count`: it stays held when the flush stopped at or before it.
        if write != nil && index <= held.count { result.newlyHeld = write }
        let remaining = Array(queue[index...])
        held = remaining
        return result
    }

    /// `rows` (an occurrence as the database has it) as they will be once the held writes are in: a plan stored
    /// while the disk was full is found again, and not planned a second time.
    public func overlay(_ rows: [AiringRecord], slot: String, startsAt: Date) -> [AiringRecord] {
        overlay(rows) { $0.slot == slot && $0.slotStartsAt == startsAt }
    }

    /// `rows` as they will be once the held writes are in, with the rows held inserts add that `including` takes.
    public func overlay(_ rows: [AiringRecord], including: (AiringRecord) -> Bool) -> [AiringRecord] {
        var rows = rows
        func update(_ id: Int64, _ change: (inout AiringRecord) -> Void) {
            if let index = rows.firstIndex(where: { $0.id == id }) { change(&rows[index]) }
        }
        for item in held {
            switch item.write {
            case let .insert(records):
                rows += records.filter { record in including(record) && !rows.contains { $0.id == record.id } }
            case let .markStarted(id, startedAt, policy, fromSeconds):
                update(id) { row in
                    guard row.outcome == .planned else { return }
                    row.outcome = .started
                    row.startedAt = startedAt
                    row.policy = policy ?? row.policy
                    row.fromSeconds = fromSeconds ?? row.fromSeconds
                }
            case let .progress(id, airedSeconds):
                update(id) { row in if row.outcome == .started { row.airedSeconds = airedSeconds } }
            case let .finish(id, outcome, endedAt, airedSeconds, reason, xruns, lostSeconds, policy, confirmed, monitorDBFS, code):
                update(id) { row in
                    row.outcome = outcome
                    row.confirmed = confirmed
                    row.monitorDBFS = monitorDBFS
                    row.endedAt = endedAt
                    row.airedSeconds = airedSeconds
                    row.reason = reason
                    row.reasonCode = code
                    row.xruns = xruns
                    row.lostSeconds = lostSeconds
                    row.policy = policy ?? row.policy
                }
            case let .closePlanned(slot, startsAt, reason, code):
                for index in rows.indices
                where rows[index].slot == slot && rows[index].slotStartsAt == startsAt && rows[index].outcome == .planned {
                    rows[index].outcome = .skipped
                    rows[index].reason = reason
                    rows[index].reasonCode = code
                    rows[index].lostSeconds = rows[index].plannedSeconds
                }
            case let .closeAbandoned(reason, code):
                for index in rows.indices where rows[index].outcome == .started {
                    rows[index].outcome = .interrupted
                    rows[index].reason = reason
                    rows[index].reasonCode = code
                }
            }
        }
        return rows.sorted { ($0.scheduledAt, $0.id ?? 0) < ($1.scheduledAt, $1.id ?? 0) }
    }
}
