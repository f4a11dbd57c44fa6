import Foundation
import GRDB
import LoaCore

/// Every airing, one row each: written `started` before the first sample, finished after the last.
public struct AiringLog: Sendable {
    public let database: StationDatabase

    public init(_ database: StationDatabase) { self.database = database }

    /// Writes a row and returns its id. Use `.started` before the first sample, or a final outcome
    /// for an item that never started (failed to open, skipped).
    @discardableResult
    public func insert(_ record: AiringRecord, xruns: Int = 0) throws(StoreError) -> Int64 {
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO airing (slot, slot_starts_at, segment_id, title, pillar, campaign, path, scheduled_at,
                                    started_at, ended_at, aired_seconds, outcome, reason, device, xruns)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.slot, record.slotStartsAt.timeIntervalSince1970, record.segmentID, record.title,
                                 record.pillar?.rawValue, record.campaign, record.path, record.scheduledAt.timeIntervalSince1970,
                                 record.startedAt?.timeIntervalSince1970, record.endedAt?.timeIntervalSince1970,
                                 record.airedSeconds, record.outcome.rawValue, record.reason, record.device, xruns])
            return db.lastInsertedRowID
        }
    }

    /// Completes a `started` row.
    public func finish(id: Int64, outcome: AiringOutcome, endedAt: Date?, airedSeconds: Double, reason: String?, xruns: Int) throws(StoreError) {
        try database.write { db in
            try db.execute(sql: """
                UPDATE airing SET outcome = ?, ended_at = ?, aired_seconds = ?, reason = ?, xruns = ? WHERE id = ?
                """, arguments: [outcome.rawValue, endedAt?.timeIntervalSince1970, airedSeconds, reason, xruns, id])
        }
    }

    /// Rows whose planned time falls in `[from, to)`, oldest first.
    public func records(from: Date? = nil, to: Date? = nil) throws(StoreError) -> [AiringRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM airing WHERE scheduled_at >= ? AND scheduled_at < ? ORDER BY scheduled_at, id
                """, arguments: [from?.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude,
                                 to?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude]).map(AiringLog.record)
        }
    }

    /// Whether anything was logged for this occurrence of the slot: a restart must not air it again.
    public func hasRows(slot: String, startsAt: Date) throws(StoreError) -> Bool {
        try database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM airing WHERE slot = ? AND slot_starts_at = ? LIMIT 1",
                              arguments: [slot, startsAt.timeIntervalSince1970]) ?? false
        }
    }

    /// Rotation history from every airing heard so far.
    public func history() throws(StoreError) -> AiringHistory {
        try database.read { db in
            var history = AiringHistory()
            let heard = AiringOutcome.heard.map(\.rawValue).sorted()
            let rows = try Row.fetchAll(db, sql: """
                SELECT segment_id, COUNT(*) AS n, MAX(COALESCE(started_at, scheduled_at)) AS last
                FROM airing WHERE outcome IN (\(databaseQuestionMarks(count: heard.count))) GROUP BY segment_id
                """, arguments: StatementArguments(heard))
            for row in rows {
                history.entries[row["segment_id"]] = AiringHistory.Entry(
                    count: row["n"], lastAiredAt: (row["last"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
            return history
        }
    }

    /// Rows a previous run left `started` (it died mid-item) become `interrupted`. Returns how many.
    public func closeAbandoned(reason: String) throws(StoreError) -> Int {
        try database.write { db in
            try db.execute(sql: "UPDATE airing SET outcome = 'interrupted', reason = ? WHERE outcome = 'started'", arguments: [reason])
            return db.changesCount
        }
    }

    static func record(_ row: Row) -> AiringRecord {
        func date(_ column: String) -> Date? { (row[column] as Double?).map(Date.init(timeIntervalSince1970:)) }
        return AiringRecord(
            id: row["id"], slot: row["slot"], slotStartsAt: date("slot_starts_at") ?? Date(timeIntervalSince1970: 0),
            segmentID: row["segment_id"], title: row["title"],
            pillar: (row["pillar"] as String?).flatMap(Pillar.init(rawValue:)), campaign: row["campaign"], path: row["path"],
            scheduledAt: date("scheduled_at") ?? Date(timeIntervalSince1970: 0), startedAt: date("started_at"),
            endedAt: date("ended_at"), airedSeconds: row["aired_seconds"],
            outcome: AiringOutcome(rawValue: row["outcome"]) ?? .failed, reason: row["reason"], device: row["device"])
    }
}
