import Foundation
import GRDB
import LoaCore

/// Every airing, one row each. The plan of an occurrence is stored before it airs (`planned` rows), a row
/// turns `started` at its first sample and final after its last, so after a crash every planned item
/// still ends with a row.
public struct AiringLog: Sendable {
    public let database: StationDatabase

    public init(_ database: StationDatabase) { self.database = database }

    /// Writes a row and returns its id.
    @discardableResult
    public func insert(_ record: AiringRecord) throws(StoreError) -> Int64 {
        try insert([record])[0]
    }

    /// Writes rows in one transaction (the stored plan of an occurrence) and returns their ids, in order. A
    /// record with an id is written under it (with `ignoringWritten`, skipped when a row has it already: a spool
    /// replayed after a crash may hold rows that went in).
    public func insert(_ records: [AiringRecord], ignoringWritten: Bool = false) throws(StoreError) -> [Int64] {
        try database.write { db in
            // One prepared statement from the record's column list for the whole batch: GRDB's insert of a record
            // builds its container and its SQL for every row, a fifth of `loa simulate`'s time.
            let statement = try db.cachedStatement(sql: ignoringWritten ? AiringColumn.insertOrIgnoreSQL : AiringColumn.insertSQL)
            let ids = try records.map { record in
                try statement.execute(arguments: StatementArguments(record.databaseValues))
                // An id given is the row's, also when the row was there already (ignored: no new row id to read).
                return record.id ?? db.lastInsertedRowID
            }
            try AiringLog.chainFinished(db)
            return ids
        }
    }

    /// Writes rows in one transaction and returns them as stored, each with its id.
    public func store(_ records: [AiringRecord]) throws(StoreError) -> [AiringRecord] {
        zip(records, try insert(records)).map { record, id in
            var record = record
            record.id = id
            return record
        }
    }

    /// A planned row's first sample is being written: the start comes from the device. `fromSeconds`, when
    /// given, is where in the file its audio begins (an item entered mid-way).
    public func markStarted(id: Int64, startedAt: Date, policy: LatenessPolicy?, fromSeconds: Double? = nil) throws(StoreError) {
        try database.write { db in
            try db.execute(sql: """
                UPDATE airing SET outcome = 'started', started_at = ?, policy = COALESCE(?, policy),
                                  from_seconds = COALESCE(?, from_seconds) WHERE id = ?
                """, arguments: [startedAt.timeIntervalSince1970, policy?.rawValue, fromSeconds, id])
        }
    }

    /// Stores a `planned` row for the next stretch of row `id`'s item, `fromSeconds` into its file
    /// (``AiringRecord/stretch(fromSeconds:)``), and returns it with its id; `markStarted` and `finish` then work
    /// on it as on any row.
    public func insertStretch(continuing id: Int64, fromSeconds: Double) throws(StoreError) -> AiringRecord {
        guard let cut = try record(id: id) else {
            throw .query(path: database.path, message: "không có lượt phát #\(id) để phát tiếp")
        }
        var stretch = cut.stretch(fromSeconds: fromSeconds)
        stretch.id = try insert(stretch)
        return stretch
    }

    /// Row `id`, nil when there is none.
    public func record(id: Int64) throws(StoreError) -> AiringRecord? {
        try database.read { db in try AiringRecord.fetchOne(db, sql: "\(AiringColumn.select()) WHERE id = ?", arguments: [id]) }
    }

    /// What an airing still on air has been heard for so far: a row the daemon leaves `started` (killed, a power
    /// cut) keeps it when the next start closes the row.
    /// Progress comes every second of every airing: committed without its own fsync (`synchronous = NORMAL` for
    /// this one statement), so a crash of the process loses none of it (the WAL is in the kernel's cache) and the
    /// disk is not synced once a second for hours; the next write that makes a row final syncs it with the rest.
    /// Only a power cut can take back what the last second's progress said.
    public func recordProgress(id: Int64, airedSeconds: Double) throws(StoreError) {
        try database.writeUnsynced { db in
            try db.execute(sql: "UPDATE airing SET aired_seconds = ? WHERE id = ? AND outcome = 'started'",
                           arguments: [airedSeconds, id])
        }
    }

    /// Makes a row final.
    public func finish(id: Int64, outcome: AiringOutcome, endedAt: Date?, airedSeconds: Double, reason: Reason?, xruns: Int,
                       lostSeconds: Double = 0, policy: LatenessPolicy? = nil, confirmed: OnAirConfirmation? = nil,
                       monitorDBFS: Double? = nil) throws(StoreError) {
        try finish(id: id, outcome: outcome, endedAt: endedAt, airedSeconds: airedSeconds, detail: reason?.detail,
                   code: reason?.code, xruns: xruns, lostSeconds: lostSeconds, policy: policy, confirmed: confirmed,
                   monitorDBFS: monitorDBFS)
    }

    /// ``finish(id:outcome:endedAt:airedSeconds:reason:xruns:lostSeconds:policy:confirmed:monitorDBFS:)`` as a held
    /// write keeps it: a spool written before codes holds the sentence alone, and is written so.
    func finish(id: Int64, outcome: AiringOutcome, endedAt: Date?, airedSeconds: Double, detail: String?, code: ReasonCode?,
                xruns: Int, lostSeconds: Double, policy: LatenessPolicy?, confirmed: OnAirConfirmation?,
                monitorDBFS: Double?) throws(StoreError) {
        // The monitor's verdict is written here, not later: the chain hashes the row as this transaction leaves it.
        try database.write { db in
            try db.execute(sql: """
                UPDATE airing SET outcome = ?, ended_at = ?, aired_seconds = ?, reason = ?, reason_code = ?, xruns = ?,
                                  lost_seconds = ?, policy = COALESCE(?, policy), confirmed = ?, monitor_dbfs = ? WHERE id = ?
                """, arguments: [outcome.rawValue, endedAt?.timeIntervalSince1970, airedSeconds, detail, code?.rawValue, xruns,
                                 lostSeconds, policy?.rawValue, confirmed?.rawValue, monitorDBFS, id])
            try AiringLog.chainFinished(db)
        }
    }

    /// Hands `body` what a report reads of each row planned in `[from, to)` (``AiringSelection/report``; the rest of
    /// each record is left empty), oldest first (by planned time, then id: the stretches of an item follow each
    /// other), one at a time through a cursor: a year of rows is never held.
    public func forEachReportRecord(from: Date? = nil, to: Date? = nil, _ body: (AiringRecord) -> Void) throws(StoreError) {
        try database.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                \(AiringSelection.report.select()) WHERE scheduled_at >= ? AND scheduled_at < ? ORDER BY scheduled_at, id
                """, arguments: [from?.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude,
                                 to?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude])
            while let row = try rows.next() { body(AiringRecord(row: row, .report)) }
        }
    }

    /// Rows whose planned time falls in `[from, to)`, oldest first.
    public func records(from: Date? = nil, to: Date? = nil) throws(StoreError) -> [AiringRecord] {
        try database.read { db in
            try AiringRecord.fetchAll(db, sql: """
                \(AiringColumn.select()) WHERE scheduled_at >= ? AND scheduled_at < ? ORDER BY scheduled_at, id
                """, arguments: [from?.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude,
                                 to?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude])
        }
    }

    /// Rows whose outcome is `outcome`, oldest first.
    public func records(outcome: AiringOutcome) throws(StoreError) -> [AiringRecord] {
        try database.read { db in
            try AiringRecord.fetchAll(db, sql: "\(AiringColumn.select()) WHERE outcome = ? ORDER BY scheduled_at, id",
                                      arguments: [outcome.rawValue])
        }
    }

    /// The first and last planned times of a campaign's rows; nil when it has none.
    public func campaignSpan(_ campaign: String) throws(StoreError) -> ClosedRange<Date>? {
        try database.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT MIN(scheduled_at) AS first, MAX(scheduled_at) AS last FROM airing WHERE campaign = ?",
                                       arguments: [campaign])
            guard let first: Double = row?["first"], let last: Double = row?["last"] else { return nil }
            return Date(timeIntervalSince1970: first)...Date(timeIntervalSince1970: last)
        }
    }

    /// Whether any row was aired on another device than `device` (a simulated log's rows all carry one name).
    public func hasAirings(notOn device: String) throws(StoreError) -> Bool {
        try database.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM airing WHERE device IS NOT ? )", arguments: [device]) ?? false
        }
    }

    /// The latest planned time of any row, nil for an empty log.
    public func latestScheduledAt() throws(StoreError) -> Date? {
        try database.read { db in
            try Double.fetchOne(db, sql: "SELECT MAX(scheduled_at) FROM airing").map(Date.init(timeIntervalSince1970:))
        }
    }

    /// The rows of one occurrence of a slot, in plan order: its stored plan and what became of it.
    public func occurrence(slot: String, startsAt: Date) throws(StoreError) -> [AiringRecord] {
        try database.read { db in
            try AiringRecord.fetchAll(db, sql: "\(AiringColumn.select()) WHERE slot = ? AND slot_starts_at = ? ORDER BY scheduled_at, id",
                                  arguments: [slot, startsAt.timeIntervalSince1970])
        }
    }

    /// Rotation history from every segment airing heard so far (jingles and announcements do not rotate).
    /// The segments with a row of `kind`, with one of `outcomes` when given.
    public func segmentIDs(kind: ItemKind, outcomes: Set<AiringOutcome>? = nil) throws(StoreError) -> Set<String> {
        try database.read { db in
            let wanted = outcomes.map { $0.map(\.rawValue).sorted() }
            let filter = wanted.map { " AND outcome IN (\(databaseQuestionMarks(count: $0.count)))" } ?? ""
            return Set(try String.fetchAll(db, sql: "SELECT DISTINCT segment_id FROM airing WHERE kind = ?" + filter,
                                           arguments: StatementArguments([kind.rawValue] + (wanted ?? []))))
        }
    }

    /// How often and when last each segment was heard; with `recentSince`, also each airing from then on
    /// (requests counted per week need the week's airings). An item heard in two stretches one after the other
    /// counts once, by its last.
    public func history(recentSince: Date? = nil) throws(StoreError) -> AiringHistory {
        try database.read { db in
            var history = AiringHistory()
            let heard = AiringOutcome.heard.map(\.rawValue).sorted()
            let marks = databaseQuestionMarks(count: heard.count)
            let rows = try Row.fetchAll(db, sql: """
                SELECT segment_id, COUNT(*) AS n, MAX(COALESCE(started_at, scheduled_at)) AS last
                FROM airing WHERE kind = 'segment' AND outcome IN (\(marks))
                GROUP BY segment_id
                """, arguments: StatementArguments(heard))
            for row in rows {
                history.entries[row["segment_id"]] = AiringHistory.Entry(
                    count: row["n"], lastAiredAt: (row["last"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
            if let recentSince {
                let recent = try Row.fetchAll(db, sql: """
                    SELECT segment_id, COALESCE(started_at, scheduled_at) AS at FROM airing
                    WHERE kind = 'segment' AND outcome IN (\(marks)) AND scheduled_at >= ?
                    ORDER BY at
                    """, arguments: StatementArguments(heard + [recentSince.timeIntervalSince1970]))
                for row in recent {
                    let id: String = row["segment_id"]
                    history.entries[id]?.recent.append(Date(timeIntervalSince1970: row["at"]))
                }
            }
            // An item heard in two stretches one after the other counts once, by its last: the earlier stretch is taken
            // back out, found through the index of rows that continue another (a condition on every row of the
            // scans above cost a third more on a million rows).
            let doubled = try Row.fetchAll(db, sql: """
                SELECT earlier.segment_id, COALESCE(earlier.started_at, earlier.scheduled_at), earlier.scheduled_at
                FROM airing AS later JOIN airing AS earlier ON earlier.id = later.continues
                WHERE later.continues IS NOT NULL AND later.outcome IN (\(marks)) AND earlier.outcome IN (\(marks))
                  AND earlier.kind = 'segment'
                """, arguments: StatementArguments(heard + heard))
            for row in doubled {
                let id: String = row[0]
                history.entries[id]?.count -= 1
                guard let recentSince, Date(timeIntervalSince1970: row[2]) >= recentSince,
                      let at = history.entries[id]?.recent.firstIndex(of: Date(timeIntervalSince1970: row[1])) else { continue }
                history.entries[id]?.recent.remove(at: at)
            }
            return history
        }
    }

    /// Rows a previous run left `started` (it died mid-item) become `interrupted`, with `reason`. Returns them as
    /// closed, oldest first, so that the caller can resume their items (``insertStretch(continuing:fromSeconds:)``).
    /// Rows left `planned` stay: the lateness policy decides what becomes of them.
    @discardableResult
    public func closeAbandoned(reason: Reason) throws(StoreError) -> [AiringRecord] {
        try closeAbandoned(detail: reason.detail, code: reason.code)
    }

    func closeAbandoned(detail: String?, code: ReasonCode?) throws(StoreError) -> [AiringRecord] {
        try database.write { db in
            let started = try AiringRecord.fetchAll(db, sql: "\(AiringColumn.select()) WHERE outcome = 'started' ORDER BY scheduled_at, id")
            try db.execute(sql: "UPDATE airing SET outcome = 'interrupted', reason = ?, reason_code = ? WHERE outcome = 'started'",
                           arguments: [detail, code?.rawValue])
            try AiringLog.chainFinished(db)
            return started.map { row in
                var row = row
                row.outcome = .interrupted
                (row.reason, row.reasonCode) = (detail, code)
                return row
            }
        }
    }

    /// Occurrences with rows still `planned` whose items all ended before `instant`: a run that died
    /// left them. Returned as (slot, start) pairs, oldest first.
    public func stalePlans(before instant: Date) throws(StoreError) -> [(slot: String, startsAt: Date)] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT slot, slot_starts_at FROM airing WHERE outcome = 'planned'
                GROUP BY slot, slot_starts_at HAVING MAX(scheduled_at + planned_seconds) <= ? ORDER BY slot_starts_at
                """, arguments: [instant.timeIntervalSince1970]).map { row in
                (row["slot"], Date(timeIntervalSince1970: row["slot_starts_at"]))
            }
        }
    }

    /// Closes the rows of an occurrence still `planned` as skipped, everything planned lost. Returns how many.
    public func closePlanned(slot: String, startsAt: Date, reason: Reason) throws(StoreError) -> Int {
        try closePlanned(slot: slot, startsAt: startsAt, detail: reason.detail, code: reason.code)
    }

    func closePlanned(slot: String, startsAt: Date, detail: String?, code: ReasonCode?) throws(StoreError) -> Int {
        try database.write { db in
            try db.execute(sql: """
                UPDATE airing SET outcome = 'skipped', reason = ?, reason_code = ?, lost_seconds = planned_seconds
                WHERE slot = ? AND slot_starts_at = ? AND outcome = 'planned'
                """, arguments: [detail, code?.rawValue, slot, startsAt.timeIntervalSince1970])
            let closed = db.changesCount
            try AiringLog.chainFinished(db)
            return closed
        }
    }

    /// Links every final row not yet in the chain, in id order, after the chain's last row (``AiringChain``), in
    /// `form` (an upgrade pins the form of its time: its tables lack the later form's columns).
    /// Runs in the transaction that made them final, so a row is never final without its link.
    static func chainFinished(_ db: Database, form: Int = AiringChain.version) throws {
        let final = AiringOutcome.allCases.filter(\.isFinal).map(\.rawValue)
        let last = try Row.fetchOne(db, sql: "SELECT chain_seq, chain_hash FROM airing WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1")
        var seq: Int64 = last?["chain_seq"] ?? 0
        var previous: String = last?["chain_hash"] ?? AiringChain.origin
        let update = try db.makeStatement(sql: form == 1
            ? "UPDATE airing SET chain_seq = ?, chain_hash = ? WHERE id = ?"
            : "UPDATE airing SET chain_seq = ?, chain_hash = ?, chain_version = \(form) WHERE id = ?")
        // Form 1 is chained by migration v10, on a table without the columns later migrations add.
        let selection = form == 1 ? AiringSelection.beforeV11 : AiringSelection.all
        // In batches: a log upgraded with a million rows is chained without holding them all.
        while true {
            let rows = try Row.fetchAll(db, sql: """
                \(selection.select()) WHERE chain_seq IS NULL AND outcome IN (\(databaseQuestionMarks(count: final.count))) ORDER BY id LIMIT 10000
                """, arguments: StatementArguments(final))
            if rows.isEmpty { return }
            for row in rows {
                seq += 1
                let hash = AiringChain.link(previous: previous, version: form,
                                            values: AiringChain.values(seq: seq, version: form, AiringRecord(row: row, selection))) ?? ""
                try update.execute(arguments: [seq, hash, row[0]])
                previous = hash
            }
        }
    }

    /// The chain's places from the first to the last of the rows planned in `[from, to)`: contiguous, so that
    /// every link can be checked (a row finished in between that was planned outside the period comes along).
    /// Nil when no finished row was planned then.
    public func chainSpan(from: Date? = nil, to: Date? = nil) throws(StoreError) -> ClosedRange<Int64>? {
        try database.read { db in
            let bounds = try Row.fetchOne(db, sql: """
                SELECT MIN(chain_seq) AS first, MAX(chain_seq) AS last FROM airing
                WHERE chain_seq IS NOT NULL AND scheduled_at >= ? AND scheduled_at < ?
                """, arguments: [from?.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude,
                                 to?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude])
            guard let first: Int64 = bounds?["first"], let last: Int64 = bounds?["last"] else { return nil }
            return first...last
        }
    }

    /// The chain's rows at `places`, in chain order, each with its stored link.
    public func chain(_ places: ClosedRange<Int64>) throws(StoreError) -> [ChainedAiring] {
        try database.read { db in
            var previous = try String.fetchOne(db, sql: "SELECT chain_hash FROM airing WHERE chain_seq = ?",
                                               arguments: [places.lowerBound - 1]) ?? AiringChain.origin
            // A cursor's rows read the statement's columns in place; fetched whole, each would be copied first.
            let rows = try Row.fetchCursor(db, sql: "\(AiringSelection.all.select(ChainedAiring.columns)) WHERE chain_seq BETWEEN ? AND ? ORDER BY chain_seq",
                                           arguments: [places.lowerBound, places.upperBound])
            var links: [ChainedAiring] = []
            while let row = try rows.next() {
                let link = ChainedAiring(row: row, previous: previous)
                previous = link.hash
                links.append(link)
            }
            return links
        }
    }

    /// The rows of ``chainSpan(from:to:)``, all at once (an export streams them by ``chain(_:)`` instead).
    public func chain(from: Date? = nil, to: Date? = nil) throws(StoreError) -> [ChainedAiring] {
        guard let span = try chainSpan(from: from, to: to) else { return [] }
        return try chain(span)
    }
}
