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

    /// `SELECT` of the columns, in order, then `extra`.
    static func select(_ columns: [AiringColumn] = allCases, _ extra: [String] = []) -> String {
        "SELECT " + (columns.map(\.name) + extra).joined(separator: ", ") + " FROM airing"
    }

    /// `INSERT` of a record's ``AiringRecord/databaseValues`` (a nil id takes the next one).
    static let insertSQL = "INSERT INTO airing (\(allCases.map(\.name).joined(separator: ", "))) VALUES (\(databaseQuestionMarks(count: allCases.count)))"
    /// The same, skipping a record whose id is taken (a spool replayed after a crash may hold rows that went in).
    static let insertOrIgnoreSQL = insertSQL.replacingOccurrences(of: "INSERT INTO", with: "INSERT OR IGNORE INTO")
}

/// Some of ``AiringColumn``, in the order a query selects them, and where each is in its rows: a record is read
/// from any selection by position. Columns left out read as empty (nil, 0, the empty text).
struct AiringSelection: Sendable {
    let columns: [AiringColumn]
    /// By ``AiringColumn/rawValue``: the column's position in a row, nil when not selected.
    let positions: [Int?]

    init(_ columns: [AiringColumn]) {
        self.columns = columns
        var positions = [Int?](repeating: nil, count: AiringColumn.allCases.count)
        for (position, column) in columns.enumerated() { positions[column.rawValue] = position }
        self.positions = positions
    }

    /// `SELECT` of the columns, then `extra` (placed after them).
    func select(_ extra: [String] = []) -> String { AiringColumn.select(columns, extra) }

    /// Every column: a whole record.
    static let all = AiringSelection(AiringColumn.allCases)
    /// The columns the table had before station, priority and confirmation were logged (migration `v11`).
    static let beforeV11 = AiringSelection(Array(AiringColumn.allCases[..<AiringColumn.station.rawValue]))
    /// What a report reads of each row (``ReportAccumulator``): what aired, when it was planned, what became of it,
    /// and the row a stretch continues; for relays, the occurrence (slot and its start) and the reason, which tie a
    /// fallback's row to its relay. Reading whole records made a year's report take twice as long.
    static let report = AiringSelection([.id, .slot, .slotStartsAt, .segmentID, .title, .pillar, .category, .campaign, .kind,
                                         .outcome, .reasonCode, .scheduledAt, .plannedSeconds, .airedSeconds, .confirmed, .continues])
}

extension AiringRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "airing"
    public static var databaseSelection: [any SQLSelectable] { AiringColumn.allCases }

    /// A row selected with every ``AiringColumn`` in its order (``databaseSelection``).
    public init(row: Row) { self.init(row: row, AiringSelection.all) }

    /// A row selected with `selection`.
    init(row: Row, _ selection: AiringSelection) {
        // Constrained to what SQLite hands over directly: a generic read through `DatabaseValue` looked its type up
        // on every call.
        func value<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ column: AiringColumn) -> Value? {
            guard let position = selection.positions[column.rawValue] else { return nil }
            return row[position]
        }
        func date(_ column: AiringColumn) -> Date? { (value(column) as Double?).map(Date.init(timeIntervalSince1970:)) }
        let scheduledAt = date(.scheduledAt) ?? Date(timeIntervalSince1970: 0)
        self.init(
            id: value(.id), slot: value(.slot) ?? "", slotStartsAt: date(.slotStartsAt) ?? scheduledAt,
            segmentID: value(.segmentID) ?? "", title: value(.title) ?? "",
            pillar: (value(.pillar) as String?).flatMap(Pillar.init(rawValue:)), campaign: value(.campaign),
            path: value(.path) ?? "", sha256: value(.sha256), category: value(.category), feed: value(.feed),
            scheduledAt: scheduledAt, plannedSeconds: value(.plannedSeconds) ?? 0, startedAt: date(.startedAt),
            endedAt: date(.endedAt), airedSeconds: value(.airedSeconds) ?? 0,
            outcome: (value(.outcome) as String?).flatMap(AiringOutcome.init(rawValue:)) ?? .failed, reason: value(.reason),
            reasonCode: (value(.reasonCode) as String?).flatMap(ReasonCode.init(rawValue:)), device: value(.device),
            kind: (value(.kind) as String?).flatMap(ItemKind.init(rawValue:)) ?? .segment,
            policy: (value(.policy) as String?).flatMap(LatenessPolicy.init(rawValue:)), lostSeconds: value(.lostSeconds) ?? 0,
            xruns: value(.xruns) ?? 0, station: value(.station),
            priority: (value(.priority) as String?).flatMap(Priority.init(rawValue:)),
            confirmed: (value(.confirmed) as String?).flatMap(OnAirConfirmation.init(rawValue:)),
            monitorDBFS: value(.monitorDBFS), continues: value(.continues), fromSeconds: value(.fromSeconds) ?? 0)
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

    /// A row selected with every ``AiringColumn`` then ``columns``, linked to `previous`.
    init(row: Row, previous: String) {
        let at = AiringColumn.allCases.count
        self.init(record: AiringRecord(row: row, AiringSelection.all), seq: row[at], hash: row[at + 1], version: row[at + 2] ?? 1,
                  previous: previous)
    }

    public init(record: AiringRecord, seq: Int64, hash: String, version: Int, previous: String) {
        self.record = record
        self.seq = seq
        self.hash = hash
        self.version = version
        self.previous = previous
    }
}
