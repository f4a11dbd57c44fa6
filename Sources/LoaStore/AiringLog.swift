import Foundation
import GRDB
import LoaCore

/// Every airing, one row each. The plan of an occurrence is stored before it airs (`planned` rows), a row
/// turns `started` at its first sample and final after its last, so after a crash every planned item
/// still ends with a row.
public struct AiringLog: Sendable {
    public let database: StationDatabase

    public init(_ database: StationDatabase) { self.database = database }

    static let columns = ["slot", "slot_starts_at", "segment_id", "title", "pillar", "campaign", "path", "scheduled_at",
                          "planned_seconds", "started_at", "ended_at", "aired_seconds", "outcome", "reason", "device", "xruns",
                          "kind", "policy", "lost_seconds", "sha256", "category", "feed", "station", "priority", "confirmed",
                          "monitor_dbfs"]

    static func arguments(_ r: AiringRecord) -> StatementArguments {
        [r.slot, r.slotStartsAt.timeIntervalSince1970, r.segmentID, r.title, r.pillar?.rawValue, r.campaign, r.path,
         r.scheduledAt.timeIntervalSince1970, r.plannedSeconds, r.startedAt?.timeIntervalSince1970,
         r.endedAt?.timeIntervalSince1970, r.airedSeconds, r.outcome.rawValue, r.reason, r.device, r.xruns, r.kind.rawValue,
         r.policy?.rawValue, r.lostSeconds, r.sha256, r.category, r.feed, r.station, r.priority?.rawValue,
         r.confirmed?.rawValue, r.monitorDBFS]
    }

    static let insertSQL = "INSERT INTO airing (\(columns.joined(separator: ", "))) VALUES (\(databaseQuestionMarks(count: columns.count)))"
    /// For a row whose id was given before it could be written (``AiringLogWriter`` hands ids out up front).
    static func insertSQL(withID: Bool, orIgnore: Bool = false) -> String {
        guard withID else { return insertSQL }
        return "INSERT \(orIgnore ? "OR IGNORE " : "")INTO airing (id, \(columns.joined(separator: ", "))) VALUES (\(databaseQuestionMarks(count: columns.count + 1)))"
    }

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
            // Prepared once: parsing the statement again for every row was a tenth of `loa simulate`'s time.
            let statement = try db.cachedStatement(sql: AiringLog.insertSQL)
            let ids = try records.map { record in
                if let id = record.id {
                    try db.execute(sql: AiringLog.insertSQL(withID: true, orIgnore: ignoringWritten),
                                   arguments: [id] + AiringLog.arguments(record))
                    return id
                }
                try statement.execute(arguments: AiringLog.arguments(record))
                return db.lastInsertedRowID
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

    /// A planned row's first sample is being written: the start comes from the device.
    public func markStarted(id: Int64, startedAt: Date, policy: LatenessPolicy?) throws(StoreError) {
        try database.write { db in
            try db.execute(sql: "UPDATE airing SET outcome = 'started', started_at = ?, policy = COALESCE(?, policy) WHERE id = ?",
                           arguments: [startedAt.timeIntervalSince1970, policy?.rawValue, id])
        }
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
    public func finish(id: Int64, outcome: AiringOutcome, endedAt: Date?, airedSeconds: Double, reason: String?, xruns: Int,
                       lostSeconds: Double = 0, policy: LatenessPolicy? = nil, confirmed: OnAirConfirmation? = nil,
                       monitorDBFS: Double? = nil) throws(StoreError) {
        // The monitor's verdict is written here, not later: the chain hashes the row as this transaction leaves it.
        try database.write { db in
            try db.execute(sql: """
                UPDATE airing SET outcome = ?, ended_at = ?, aired_seconds = ?, reason = ?, xruns = ?, lost_seconds = ?,
                                  policy = COALESCE(?, policy), confirmed = ?, monitor_dbfs = ? WHERE id = ?
                """, arguments: [outcome.rawValue, endedAt?.timeIntervalSince1970, airedSeconds, reason, xruns, lostSeconds,
                                 policy?.rawValue, confirmed?.rawValue, monitorDBFS, id])
            try AiringLog.chainFinished(db)
        }
    }

    /// Hands `body` what a report reads of each row planned in `[from, to)`, oldest first, one at a time (a year
    /// of rows is never held): what aired (segment, title, pillar, category, campaign, kind), when it was planned,
    /// its outcome, seconds and confirmation; the rest of each record is left empty.
    public func forEachReportRecord(from: Date? = nil, to: Date? = nil, _ body: (AiringRecord) -> Void) throws(StoreError) {
        try database.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT segment_id, title, pillar, category, campaign, kind, outcome, scheduled_at, planned_seconds,
                       aired_seconds, confirmed FROM airing WHERE scheduled_at >= ? AND scheduled_at < ? ORDER BY scheduled_at, id
                """, arguments: [from?.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude,
                                 to?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude])
            while let row = try rows.next() {
                let scheduled = Date(timeIntervalSince1970: row[7])
                body(AiringRecord(
                    slot: "", slotStartsAt: scheduled, segmentID: row[0], title: row[1],
                    pillar: (row[2] as String?).flatMap(Pillar.init(rawValue:)), campaign: row[4], path: "", category: row[3],
                    scheduledAt: scheduled, plannedSeconds: row[8], airedSeconds: row[9],
                    outcome: AiringOutcome(rawValue: row[6]) ?? .failed,
                    kind: (row[5] as String?).flatMap(ItemKind.init(rawValue:)) ?? .segment,
                    confirmed: (row[10] as String?).flatMap(OnAirConfirmation.init(rawValue:))))
            }
        }
    }

    /// Rows whose planned time falls in `[from, to)`, oldest first.
    public func records(from: Date? = nil, to: Date? = nil) throws(StoreError) -> [AiringRecord] {
        try database.read { db in
            try AiringLog.records(db, sql: """
                \(AiringLog.selectRecords) WHERE scheduled_at >= ? AND scheduled_at < ? ORDER BY scheduled_at, id
                """, arguments: [from?.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude,
                                 to?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude])
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
            try AiringLog.records(db, sql: "\(AiringLog.selectRecords) WHERE slot = ? AND slot_starts_at = ? ORDER BY scheduled_at, id",
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
    /// (requests counted per week need the week's airings).
    public func history(recentSince: Date? = nil) throws(StoreError) -> AiringHistory {
        try database.read { db in
            var history = AiringHistory()
            let heard = AiringOutcome.heard.map(\.rawValue).sorted()
            let rows = try Row.fetchAll(db, sql: """
                SELECT segment_id, COUNT(*) AS n, MAX(COALESCE(started_at, scheduled_at)) AS last
                FROM airing WHERE kind = 'segment' AND outcome IN (\(databaseQuestionMarks(count: heard.count)))
                GROUP BY segment_id
                """, arguments: StatementArguments(heard))
            for row in rows {
                history.entries[row["segment_id"]] = AiringHistory.Entry(
                    count: row["n"], lastAiredAt: (row["last"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
            if let recentSince {
                let recent = try Row.fetchAll(db, sql: """
                    SELECT segment_id, COALESCE(started_at, scheduled_at) AS at FROM airing
                    WHERE kind = 'segment' AND outcome IN (\(databaseQuestionMarks(count: heard.count))) AND scheduled_at >= ?
                    ORDER BY at
                    """, arguments: StatementArguments(heard + [recentSince.timeIntervalSince1970]))
                for row in recent {
                    let id: String = row["segment_id"]
                    history.entries[id]?.recent.append(Date(timeIntervalSince1970: row["at"]))
                }
            }
            return history
        }
    }

    /// Rows a previous run left `started` (it died mid-item) become `interrupted`. Returns how many.
    /// Rows left `planned` stay: the lateness policy decides what becomes of them.
    public func closeAbandoned(reason: String) throws(StoreError) -> Int {
        try database.write { db in
            try db.execute(sql: "UPDATE airing SET outcome = 'interrupted', reason = ? WHERE outcome = 'started'", arguments: [reason])
            let closed = db.changesCount
            try AiringLog.chainFinished(db)
            return closed
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
    public func closePlanned(slot: String, startsAt: Date, reason: String) throws(StoreError) -> Int {
        try database.write { db in
            try db.execute(sql: """
                UPDATE airing SET outcome = 'skipped', reason = ?, lost_seconds = planned_seconds
                WHERE slot = ? AND slot_starts_at = ? AND outcome = 'planned'
                """, arguments: [reason, slot, startsAt.timeIntervalSince1970])
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
        let select = form == 1 ? "SELECT " + recordColumns[..<v1ColumnCount].joined(separator: ", ") + " FROM airing" : selectRecords
        // In batches: a log upgraded with a million rows is chained without holding them all.
        while true {
            let rows = try Row.fetchAll(db, sql: """
                \(select) WHERE chain_seq IS NULL AND outcome IN (\(databaseQuestionMarks(count: final.count))) ORDER BY id LIMIT 10000
                """, arguments: StatementArguments(final))
            if rows.isEmpty { return }
            for row in rows {
                seq += 1
                let hash = AiringChain.link(previous: previous, version: form,
                                            values: AiringChain.values(seq: seq, version: form, record(row))) ?? ""
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
            let rows = try Row.fetchCursor(db, sql: "\(AiringLog.selectRecords) WHERE chain_seq BETWEEN ? AND ? ORDER BY chain_seq",
                                           arguments: [places.lowerBound, places.upperBound])
            var links: [ChainedAiring] = []
            while let row = try rows.next() {
                let link = ChainedAiring(record: AiringLog.record(row), seq: row[AiringLog.chainIndex],
                                         hash: row[AiringLog.chainIndex + 1], version: row[AiringLog.chainIndex + 2] ?? 1,
                                         previous: previous)
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

    /// The columns a record is read from, in the order ``record(_:)`` reads them by position (a lookup by
    /// name lowercases and compares every column name: most of an export's time on a million rows), then the
    /// row's place in the chain.
    static let recordColumns = ["id", "slot", "slot_starts_at", "segment_id", "title", "pillar", "campaign", "path", "sha256",
                                "category", "feed", "scheduled_at", "planned_seconds", "started_at", "ended_at",
                                "aired_seconds", "outcome", "reason", "device", "kind", "policy", "lost_seconds", "xruns",
                                "station", "priority", "confirmed", "monitor_dbfs", "chain_seq", "chain_hash", "chain_version"]
    /// Where `chain_seq` is in ``recordColumns``; `chain_hash` and `chain_version` follow it.
    static let chainIndex = 27
    /// How many of ``recordColumns`` the tables had before station, priority and confirmation were logged.
    static let v1ColumnCount = 23
    static let selectRecords = "SELECT " + recordColumns.joined(separator: ", ") + " FROM airing"

    /// The records `sql` (a ``selectRecords`` query) selects, read through a cursor: rows fetched whole are
    /// each copied with their column names first.
    static func records(_ db: Database, sql: String, arguments: StatementArguments) throws -> [AiringRecord] {
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        var records: [AiringRecord] = []
        while let row = try rows.next() { records.append(record(row)) }
        return records
    }

    /// A row selected with ``selectRecords``.
    static func record(_ row: Row) -> AiringRecord {
        func date(_ index: Int) -> Date? { (row[index] as Double?).map(Date.init(timeIntervalSince1970:)) }
        return AiringRecord(
            id: row[0], slot: row[1], slotStartsAt: date(2) ?? Date(timeIntervalSince1970: 0),
            segmentID: row[3], title: row[4], pillar: (row[5] as String?).flatMap(Pillar.init(rawValue:)), campaign: row[6],
            path: row[7], sha256: row[8], category: row[9], feed: row[10],
            scheduledAt: date(11) ?? Date(timeIntervalSince1970: 0), plannedSeconds: row[12],
            startedAt: date(13), endedAt: date(14), airedSeconds: row[15],
            outcome: AiringOutcome(rawValue: row[16]) ?? .failed, reason: row[17], device: row[18],
            kind: (row[19] as String?).flatMap(ItemKind.init(rawValue:)) ?? .segment,
            policy: (row[20] as String?).flatMap(LatenessPolicy.init(rawValue:)), lostSeconds: row[21], xruns: row[22],
            station: row.count > 23 ? row[23] : nil, priority: row.count > 24 ? (row[24] as String?).flatMap(Priority.init(rawValue:)) : nil,
            confirmed: row.count > 25 ? (row[25] as String?).flatMap(OnAirConfirmation.init(rawValue:)) : nil,
            monitorDBFS: row.count > 26 ? row[26] : nil)
    }
}

/// A finished row with its place in the hash chain, as stored when it was finished.
public struct ChainedAiring: Sendable {
    public var record: AiringRecord
    public var seq: Int64
    /// SHA-256 of `previous` and the row's canonical content, computed when the row was finished.
    public var hash: String
    /// The canonical form the hash was computed in (``AiringChain/version`` when it was chained).
    public var version: Int
    /// The hash of the row before it in the chain (``AiringChain/origin`` for the first).
    public var previous: String
}
