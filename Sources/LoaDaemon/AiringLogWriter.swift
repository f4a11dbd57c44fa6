import Foundation
import LoaCore
import LoaStore
import Logging

/// The daemon's one way into the airing log: the station keeps airing whatever the log's disk does.
///
/// Every write is a ``LogWrite`` value, written in the order asked. When the disk refuses one (full, failing,
/// read-only, the file damaged), it and every write after it are held in order, in memory and in a spool beside
/// the database (``WriteSpool``, space reserved at start), and tried again on the next write and on each
/// ``check()``, until they go in; a spool left by a run that stopped while holding writes is replayed at start.
/// Row ids are handed out here, before a row is written, so a write can name a row whose insert still waits.
/// A database deleted or replaced under the daemon is noticed at the next write or check and written again to
/// its path from what the open connection holds.
public final class AiringLogWriter: @unchecked Sendable {
    public let database: StationDatabase
    let clock: any WallClock
    let logger: Logger
    let spool: WriteSpool?
    private let lock = NSLock()
    private var pending: PendingWrites
    private var nextID: Int64
    /// When the first write now held was refused, and when the operator was last told.
    private var heldSince: Date?
    private var lastWarning: Date?
    /// Held writes the spool could not take either (full or unwritable): they live in memory only.
    private var unspooled = 0
    /// What stops every write while the database's file is gone and cannot be written again yet.
    private var relocation: StoreError?
    /// How often the operator is reminded of writes still held.
    let warningSeconds: Double

    var log: AiringLog { AiringLog(database) }

    public init(database: StationDatabase, clock: any WallClock, logger: Logger, spoolCapacity: Int = WriteSpool.defaultCapacity,
                warningSeconds: Double = 60) {
        self.database = database
        self.clock = clock
        self.logger = logger
        self.warningSeconds = warningSeconds
        let spoolPath = database.path + ".spool"
        do {
            let spool = try WriteSpool(path: spoolPath, capacity: spoolCapacity)
            if !spool.reserved {
                logger.warning("\(spoolPath): không dành trước được chỗ trên đĩa; khi đĩa đầy, các lượt phát chưa ghi được chỉ giữ trong bộ nhớ")
            }
            self.spool = spool
        } catch {
            logger.error("\(error); các lượt phát chưa ghi được chỉ giữ trong bộ nhớ")
            spool = nil
        }
        let recovered = spool?.recovered ?? []
        pending = PendingWrites(held: recovered.map { PendingWrites.Held($0, replaying: true) })
        let spooledID = recovered.compactMap(\.largestID).max() ?? 0
        do {
            // A log opened read-only may lag behind rows its WAL held: its ids are not to be trusted.
            if database.isReadOnly { throw StoreError.disk(path: database.path, message: "chỉ đọc được") }
            nextID = max(try AiringLog(database).nextFreeID(), spooledID + 1)
        } catch {
            // Ids must never repeat one already stored: with the log unreadable, milliseconds since 1970 stand
            // far above any id a station's log reaches.
            nextID = max(Int64(clock.now().timeIntervalSince1970 * 1000), spooledID + 1)
            logger.error("\(error); mã lượt phát mới bắt đầu từ \(nextID)")
        }
        if !recovered.isEmpty {
            logger.notice("\(spoolPath): \(recovered.count) thao tác nhật ký lần chạy trước chưa ghi được; ghi lại vào \(database.path)")
            check()
        }
    }

    /// How many writes wait for the disk.
    public var heldCount: Int { lock.withLock { pending.held.count } }

    // MARK: Writes, with the names and shapes of ``AiringLog``'s

    /// Gives each record its id and stores them in one transaction (or holds them); returns them with their ids.
    public func store(_ records: [AiringRecord]) throws(StoreError) -> [AiringRecord] {
        let identified: [AiringRecord] = lock.withLock {
            records.map { record in
                var record = record
                record.id = nextID
                nextID += 1
                return record
            }
        }
        try submit(.insert(identified))
        return identified
    }

    /// Stores one row (or holds it).
    public func insert(_ record: AiringRecord) throws(StoreError) {
        _ = try store([record])
    }

    public func markStarted(id: Int64, startedAt: Date, policy: LatenessPolicy?, fromSeconds: Double? = nil) throws(StoreError) {
        try submit(.markStarted(id: id, startedAt: startedAt, policy: policy, fromSeconds: fromSeconds))
    }

    public func recordProgress(id: Int64, airedSeconds: Double) throws(StoreError) {
        try submit(.progress(id: id, airedSeconds: airedSeconds))
    }

    public func finish(id: Int64, outcome: AiringOutcome, endedAt: Date?, airedSeconds: Double, reason: Reason?, xruns: Int,
                       lostSeconds: Double = 0, policy: LatenessPolicy? = nil, confirmed: OnAirConfirmation? = nil,
                       monitorDBFS: Double? = nil) throws(StoreError) {
        try submit(.finish(id: id, outcome: outcome, endedAt: endedAt, airedSeconds: airedSeconds, reason: reason?.detail,
                           xruns: xruns, lostSeconds: lostSeconds, policy: policy, confirmed: confirmed, monitorDBFS: monitorDBFS,
                           reasonCode: reason?.code))
    }

    /// Stores (or holds) a `planned` row for the next stretch of row `id`'s item, `fromSeconds` into its file
    /// (``AiringRecord/stretch(fromSeconds:)``), and returns it with its id. Row `id` may itself be held.
    public func insertStretch(continuing id: Int64, fromSeconds: Double) throws(StoreError) -> AiringRecord {
        relocateBeforeReading()
        let held = lock.withLock { pending.held.lazy.compactMap { item -> AiringRecord? in
            guard case let .insert(records) = item.write else { return nil }
            return records.first { $0.id == id }
        }.first }
        let stored = held == nil ? try log.record(id: id) : nil
        guard let cut = held ?? stored else {
            throw .query(path: database.path, message: "không có lượt phát #\(id) để phát tiếp")
        }
        return try store([cut.stretch(fromSeconds: fromSeconds)])[0]
    }

    /// Returns how many rows it closed; 0 while held.
    public func closePlanned(slot: String, startsAt: Date, reason: Reason) throws(StoreError) -> Int {
        try submit(.closePlanned(slot: slot, startsAt: startsAt, reason: reason.detail, reasonCode: reason.code)) ?? 0
    }

    /// Closes the rows a run that died left `started` as interrupted, with `reason`, and returns them as closed
    /// (also while the write is held: as they will be once it is in), so that their items can be resumed.
    @discardableResult
    public func closeAbandoned(reason: Reason) throws(StoreError) -> [AiringRecord] {
        relocateBeforeReading()
        lock.lock()
        defer { lock.unlock() }
        let stored: [AiringRecord]
        do { stored = try log.records(outcome: .started) } catch {
            logger.error("\(error); đóng các lượt phát dở mà không đọc được nhật ký")
            stored = []
        }
        let abandoned = pending.overlay(stored) { _ in true }.filter { $0.outcome == .started }
        let write = LogWrite.closeAbandoned(reason: reason.detail, reasonCode: reason.code)
        let flush = flushLocked(then: write)
        if let last = flush.dropped.last, last.0 == write { throw last.1 }
        return abandoned.map { row in
            var row = row
            row.outcome = .interrupted
            row.codedReason = reason
            return row
        }
    }

    // MARK: Reads that must see held writes

    /// The occurrence's rows as they will be once held writes are in. A log that cannot be read gives what is held
    /// only: the slot airs, at the risk of a second plan, rather than the station going silent.
    public func occurrence(slot: String, startsAt: Date) throws(StoreError) -> [AiringRecord] {
        relocateBeforeReading()
        let stored: [AiringRecord]
        do { stored = try log.occurrence(slot: slot, startsAt: startsAt) } catch {
            logger.error("\(error); lập kế hoạch \(slot) mà không đọc được nhật ký")
            stored = []
        }
        return lock.withLock { pending.overlay(stored, slot: slot, startsAt: startsAt) }
    }

    /// Rotation history; empty when the log cannot be read (rotation is then only less fair).
    public func history(recentSince: Date? = nil) throws(StoreError) -> AiringHistory {
        relocateBeforeReading()
        do { return try log.history(recentSince: recentSince) } catch {
            logger.error("\(error); chọn bản tin mà không có lịch sử phát")
            return AiringHistory()
        }
    }

    public func stalePlans(before instant: Date) throws(StoreError) -> [(slot: String, startsAt: Date)] {
        relocateBeforeReading()
        return try log.stalePlans(before: instant)
    }

    // MARK: The imperative shell

    /// A reader connection the pool opens afresh opens the path: after the file was replaced it would read another
    /// database (and disturb the open one's WAL index), after it was deleted nothing. So the file is checked first.
    private func relocateBeforeReading() {
        lock.lock()
        defer { lock.unlock() }
        relocateIfMoved()
    }

    @discardableResult
    private func submit(_ write: LogWrite) throws(StoreError) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        let flush = flushLocked(then: write)
        if let last = flush.dropped.last, last.0 == write { throw last.1 }
        return flush.changed
    }

    /// Notices a moved database, tries the held writes again and reminds the operator of those still waiting;
    /// ``AiringLogKeeper`` calls it on a timer.
    public func check() {
        lock.lock()
        defer { lock.unlock() }
        _ = flushLocked(then: nil)
        guard let heldSince, !pending.isEmpty else { return }
        let now = clock.now()
        if let lastWarning, now.timeIntervalSince(lastWarning) < warningSeconds { return }
        lastWarning = now
        let memoryOnly = unspooled > 0 ? ", \(unspooled) chỉ trong bộ nhớ (tệp chờ đầy)" : ""
        logger.warning("\(database.path): còn \(pending.held.count) thao tác nhật ký chờ ghi từ \(formatSeconds(now.timeIntervalSince(heldSince))) trước\(memoryOnly); đài vẫn phát")
    }

    private func flushLocked(then write: LogWrite?) -> PendingWrites.Flush {
        let wasHeld = !pending.isEmpty
        relocateIfMoved()
        let log = self.log, relocation = self.relocation
        let flush = pending.flush(then: write) { (write, replaying) throws(StoreError) -> Int in
            // While the file is gone, a write would go into the unlinked file and be lost with it.
            if let relocation { throw relocation }
            return try log.apply(write, replaying: replaying)
        }
        for (dropped, error) in flush.dropped where dropped != write {
            logger.error("\(error); bỏ thao tác nhật ký không ghi được: \(dropped)")
        }
        if let newlyHeld = flush.newlyHeld { spoolWrite(newlyHeld) }
        if let failure = flush.failure, !wasHeld {
            let now = clock.now()
            heldSince = now
            lastWarning = now
            // Where the held writes really are: the spool may have just failed too (the same full disk).
            let kept = if let spool, unspooled == 0 { "trong bộ nhớ và trong \(spool.path)" }
                       else { "chỉ trong bộ nhớ (tắt máy lúc này sẽ mất chúng)" }
            logger.error("\(failure). Đài vẫn phát; nhật ký phát được giữ \(kept) và sẽ được ghi theo thứ tự khi ghi được")
        }
        if wasHeld && pending.isEmpty {
            logger.notice("\(database.path): đã ghi xong các thao tác nhật ký đang chờ (\(flush.written.count)); nhật ký phát đầy đủ")
            do { try spool?.clear() } catch { logger.error("\(error)") }
            heldSince = nil
            lastWarning = nil
            unspooled = 0
        }
        return flush
    }

    private func spoolWrite(_ write: LogWrite) {
        guard let spool else {
            unspooled += 1
            return
        }
        do {
            if try spool.append([write]) { return }
            if unspooled == 0 { logger.error("\(spool.path): tệp chờ đã đầy; các thao tác nhật ký sau chỉ giữ trong bộ nhớ") }
        } catch {
            if unspooled == 0 { logger.error("\(error); các thao tác nhật ký sau chỉ giữ trong bộ nhớ") }
        }
        unspooled += 1
    }

    /// A database deleted or replaced under the daemon is written again at its path; a file found there is moved
    /// aside under a name that says so. Until that succeeds, every write is held.
    private func relocateIfMoved() {
        let state = database.fileState()
        guard state != .inPlace else {
            relocation = nil
            return
        }
        do {
            let aside = try database.recreate(at: clock.now())
            relocation = nil
            switch state {
            case .replaced:
                logger.error("\(database.path) đã bị thay bằng tệp khác khi Loa đang chạy; tệp đó được chuyển sang \(aside ?? "?"), nhật ký và thư viện được ghi lại vào \(database.path)")
            default:
                logger.error("\(database.path) đã bị xóa khi Loa đang chạy; nhật ký và thư viện được ghi lại từ kết nối đang mở")
            }
        } catch {
            if relocation == nil {
                logger.error("\(database.path) bị \(state == .missing ? "xóa" : "thay") khi Loa đang chạy và chưa ghi lại được: \(error)")
            }
            // Held, never dropped: whatever stopped the rewrite, the writes wait for it.
            relocation = error.isDiskFault ? error : .disk(path: database.path, message: "\(error)")
        }
    }
}
