import Foundation
import GRDB
import LoaCore

/// The columns of the `airing` table a record is read from and written to, in the order they are selected: the
/// one list of them. A row is read by position (a lookup by name lowercases and compares every column name: most of
/// an export's time on a million rows), so the order is the order of the migrations that added the columns: a
/// table not yet upgraded (the chain's first form is computed inside migration `v10`) is read from a prefix of it.
enum AiringColumn: Int, CaseIterable, ColumnExpression {
    // v1 and v3 (the form `loa-airing-1` hashes these)
    case id, slot, slotStartsAt, segmentID, title, pillar, campaign, path, sha256, category, feed, scheduledAt, plannedSeconds,
         startedAt, endedAt, airedSeconds, outcome, reason, device, kind, policy, lostSeconds, xruns
    // v11
    case station, priority, confirmed, monitorDBFS
    // v12
    case reasonCode, continues, fromSeconds

    var name: String {
        switch self {
        case .id: "id"
        case .slot: "slot"
        case .slotStartsAt: "slot_starts_at"
        case .segmentID: "segment_id"
        case .title: "title"
        case .pillar: "pillar"
        case .campaign: "campaign"
        case .path: "path"
        case .sha256: "sha256"
        case .category: "category"
        case .feed: "feed"
        case .scheduledAt: "scheduled_at"
        case .plannedSeconds: "planned_seconds"
        case .startedAt: "started_at"
        case .endedAt: "ended_at"
        case .airedSeconds: "aired_seconds"
        case .outcome: "outcome"
        case .reason: "reason"
        case .device: "device"
        case .kind: "kind"
        case .policy: "policy"
        case .lostSeconds: "lost_seconds"
        case .xruns: "xruns"
        case .station: "station"
        case .priority: "priority"
        case .confirmed: "confirmed"
        case .monitorDBFS: "monitor_dbfs"
        case .reasonCode: "reason_code"
        case .continues: "continues"
        case .fromSeconds: "from_seconds"
        }
    }

    /// The columns the table had before station, priority and confirmation were logged (migration `v11`).
    static let beforeV11 = Array(allCases[..<station.rawValue])
    /// `SELECT` of the columns, in order, then `extra`.
    static func select(_ columns: [AiringColumn] = allCases, _ extra: [String] = []) -> String {
        "SELECT " + (columns.map(\.name) + extra).joined(separator: ", ") + " FROM airing"
    }
}

extension AiringRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "airing"
    public static var databaseSelection: [any SQLSelectable] { AiringColumn.allCases }

    /// A row selected with ``AiringColumn`` in its order (``databaseSelection``), or a prefix of it.
    public init(row: Row) {
        func date(_ column: AiringColumn) -> Date? { (row[column.rawValue] as Double?).map(Date.init(timeIntervalSince1970:)) }
        /// A column added by a later migration: absent from a table not upgraded yet.
        func later<Value: DatabaseValueConvertible>(_ column: AiringColumn) -> Value? {
            row.count > column.rawValue ? row[column.rawValue] : nil
        }
        self.init(
            id: row[AiringColumn.id.rawValue], slot: row[AiringColumn.slot.rawValue],
            slotStartsAt: date(.slotStartsAt) ?? Date(timeIntervalSince1970: 0), segmentID: row[AiringColumn.segmentID.rawValue],
            title: row[AiringColumn.title.rawValue],
            pillar: (row[AiringColumn.pillar.rawValue] as String?).flatMap(Pillar.init(rawValue:)),
            campaign: row[AiringColumn.campaign.rawValue], path: row[AiringColumn.path.rawValue],
            sha256: row[AiringColumn.sha256.rawValue], category: row[AiringColumn.category.rawValue],
            feed: row[AiringColumn.feed.rawValue], scheduledAt: date(.scheduledAt) ?? Date(timeIntervalSince1970: 0),
            plannedSeconds: row[AiringColumn.plannedSeconds.rawValue], startedAt: date(.startedAt), endedAt: date(.endedAt),
            airedSeconds: row[AiringColumn.airedSeconds.rawValue],
            outcome: AiringOutcome(rawValue: row[AiringColumn.outcome.rawValue]) ?? .failed,
            reason: row[AiringColumn.reason.rawValue],
            reasonCode: (later(.reasonCode) as String?).flatMap(ReasonCode.init(rawValue:)),
            device: row[AiringColumn.device.rawValue],
            kind: (row[AiringColumn.kind.rawValue] as String?).flatMap(ItemKind.init(rawValue:)) ?? .segment,
            policy: (row[AiringColumn.policy.rawValue] as String?).flatMap(LatenessPolicy.init(rawValue:)),
            lostSeconds: row[AiringColumn.lostSeconds.rawValue], xruns: row[AiringColumn.xruns.rawValue],
            station: later(.station), priority: (later(.priority) as String?).flatMap(Priority.init(rawValue:)),
            confirmed: (later(.confirmed) as String?).flatMap(OnAirConfirmation.init(rawValue:)),
            monitorDBFS: later(.monitorDBFS), continues: later(.continues), fromSeconds: later(.fromSeconds) ?? 0)
    }

    /// The record's values in ``AiringColumn``'s order: what is written.
    var databaseValues: [(any DatabaseValueConvertible)?] {
        [id, slot, slotStartsAt.timeIntervalSince1970, segmentID, title, pillar?.rawValue, campaign, path, sha256, category, feed,
         scheduledAt.timeIntervalSince1970, plannedSeconds, startedAt?.timeIntervalSince1970, endedAt?.timeIntervalSince1970,
         airedSeconds, outcome.rawValue, reason, device, kind.rawValue, policy?.rawValue, lostSeconds, xruns, station,
         priority?.rawValue, confirmed?.rawValue, monitorDBFS, reasonCode?.rawValue, continues, fromSeconds]
    }

    public func encode(to container: inout PersistenceContainer) {
        for (column, value) in zip(AiringColumn.allCases, databaseValues) { container[column] = value }
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
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

    /// The chain's columns, selected after the record's.
    static let columns = ["chain_seq", "chain_hash", "chain_version"]

    /// A row selected with ``AiringColumn`` then ``columns``, linked to `previous`.
    init(row: Row, previous: String) {
        let at = AiringColumn.allCases.count
        self.init(record: AiringRecord(row: row), seq: row[at], hash: row[at + 1], version: row[at + 2] ?? 1, previous: previous)
    }

    public init(record: AiringRecord, seq: Int64, hash: String, version: Int, previous: String) {
        self.record = record
        self.seq = seq
        self.hash = hash
        self.version = version
        self.previous = previous
    }
}
