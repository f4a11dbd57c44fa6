import Foundation
import GRDB
import LoaCore

/// The segments the station can air, as imported with `loa segment add`.
public struct SegmentLibrary: Sendable {
    public let database: StationDatabase

    public init(_ database: StationDatabase) { self.database = database }

    /// The segments that can air: every one but those whose files were removed after they expired.
    public func all() throws(StoreError) -> [Segment] {
        try database.read { db in
            try SegmentRow.fetch(db, "WHERE removed_at IS NULL ORDER BY id").map(\.segment)
        }
    }

    /// Every segment ever in the library, removed ones too (a report of a past period names what aired then).
    public func everything() throws(StoreError) -> [Segment] {
        try database.read { db in try SegmentRow.fetch(db, "ORDER BY id").map(\.segment) }
    }

    /// Marks a fetched segment whose files were removed; it leaves ``all()``, its row stays for the log.
    public func markRemoved(_ id: String, at instant: Date) throws(StoreError) {
        try database.write { db in
            _ = try SegmentRow.filter(key: id).updateAll(db, SegmentRow.Column.removedAt.set(to: instant.timeIntervalSince1970),
                                                         SegmentRow.Column.playoutPath.set(to: nil))
        }
    }

    /// The segment (not removed) whose audio has this SHA-256.
    public func segment(sha256: String) throws(StoreError) -> Segment? {
        try database.read { db in
            try SegmentRow.fetch(db, "WHERE sha256 = ? AND removed_at IS NULL", [sha256]).first?.segment
        }
    }

    /// Inserts `segment`, giving it an id derived from `segment.id` that no other segment has.
    @discardableResult
    public func add(_ segment: Segment, importedAt: Date) throws(StoreError) -> Segment {
        try database.write { db in try SegmentLibrary.insert(segment, importedAt: importedAt, db) }
    }

    private static func insert(_ segment: Segment, importedAt: Date, _ db: Database) throws -> Segment {
        var row = SegmentRow(segment: segment, importedAt: importedAt)
        var n = 1
        // A kept statement: GRDB's `exists(_:key:)` builds its SQL at every call, and was two thirds of an add's CPU.
        while try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM segment WHERE id = ?"), arguments: [row.segment.id]) == true {
            n += 1
            row.segment.id = "\(segment.id)-\(n)"
        }
        try row.insert(db)
        return row.segment
    }

    /// The segments (not removed) whose file is `path`, relative to the audio folder.
    public func segments(path: String) throws(StoreError) -> [Segment] {
        try database.read { db in
            try SegmentRow.fetch(db, "WHERE path = ? AND removed_at IS NULL", [path]).map(\.segment)
        }
    }

    /// The segment fetched as `entry` of `feed`, if the library has it.
    public func segment(feed: String, entry: String) throws(StoreError) -> Segment? {
        try database.read { db in try SegmentRow.fetched(feed: feed, entry: entry, db)?.segment }
    }

    /// Installs a segment fetched from a feed in one transaction: a new entry is added (under a free id), a
    /// changed one replaces its previous version's file, metadata and terms under the same id, so the log's
    /// rows for the old version keep pointing at it. Returns the stored segment.
    @discardableResult
    public func install(_ segment: Segment, importedAt: Date) throws(StoreError) -> Segment {
        guard let origin = segment.origin else { return try add(segment, importedAt: importedAt) }
        return try database.write { db in
            guard let previous = try SegmentRow.fetched(feed: origin.feed, entry: origin.entry, db) else {
                return try SegmentLibrary.insert(segment, importedAt: importedAt, db)
            }
            // The whole row: a removed version that comes back can air again.
            var row = SegmentRow(segment: segment, importedAt: importedAt)
            row.segment.id = previous.segment.id
            try row.update(db)
            return row.segment
        }
    }

    /// Updates the publisher's terms (priority, validity, request, category) of an installed feed segment whose
    /// audio did not change. Returns false when the library has no such entry.
    @discardableResult
    public func updateTerms(_ origin: FeedOrigin, title: String, pillar: Pillar?, campaign: String?) throws(StoreError) -> Bool {
        try database.write { db in
            guard var row = try SegmentRow.fetched(feed: origin.feed, entry: origin.entry, db) else { return false }
            row.segment.title = title
            row.segment.pillar = pillar
            row.segment.campaign = campaign
            row.segment.origin = origin
            try row.update(db)
            return true
        }
    }

    /// Records the loudness of a segment imported before Loa measured it. Returns false if no segment has `id`.
    @discardableResult
    public func setLoudness(_ loudness: Loudness, segmentID id: String) throws(StoreError) -> Bool {
        try database.write { db in
            try SegmentRow.filter(key: id).updateAll(db, SegmentRow.Column.loudnessLUFS.set(to: loudness.integratedLUFS),
                                                     SegmentRow.Column.truePeakDBTP.set(to: loudness.truePeakDBTP)) > 0
        }
    }

    /// Records the playout copy of segment `id` (relative to the audio folder). Returns false if no segment has `id`.
    @discardableResult
    public func setPlayoutPath(_ playoutPath: String, segmentID id: String) throws(StoreError) -> Bool {
        try database.write { db in
            try SegmentRow.filter(key: id).updateAll(db, SegmentRow.Column.playoutPath.set(to: playoutPath)) > 0
        }
    }
}

/// A row of the `segment` table: the segment, when it entered the library, and when its files were removed (a
/// fetched segment past its dates). ``Column`` is the table's one column list: reads select it in its order and take
/// each value by position (by name, GRDB lowercases and compares every column name for every value: the log's
/// export spent 15 % of its time there, BENCHMARKS.md), and ``encode(to:)`` writes it, for GRDB's `insert` and
/// `update`.
struct SegmentRow: FetchableRecord, PersistableRecord {
    static let databaseTableName = "segment"

    enum Column: String, ColumnExpression, CaseIterable, Sendable {
        case id, title, pillar, campaign, path
        case durationSeconds = "duration_seconds"
        case format
        case sampleRate = "sample_rate"
        case channels, sha256
        case importedAt = "imported_at"
        case loudnessLUFS = "loudness_lufs"
        case truePeakDBTP = "true_peak_dbtp"
        case playoutPath = "playout_path"
        case feed
        case feedEntry = "feed_entry"
        case category, priority
        case validFrom = "valid_from"
        case validUntil = "valid_until"
        case requestedPerWeek = "requested_per_week"
        case requestedTotal = "requested_total"
        case removedAt = "removed_at"

        /// The columns in the order a read selects them.
        static let selected = Column.allCases
        private static let positions = Dictionary(uniqueKeysWithValues: selected.enumerated().map { ($1, $0) })
        /// Where this column is in a row read by ``SegmentRow/fetch(_:_:_:)`` or through ``SegmentRow/databaseSelection``.
        var position: Int { Column.positions[self] ?? 0 }
    }

    static var databaseSelection: [any SQLSelectable] { Column.selected }

    var segment: Segment
    var importedAt: Date
    var removedAt: Date?

    init(segment: Segment, importedAt: Date, removedAt: Date? = nil) {
        self.segment = segment
        self.importedAt = importedAt
        self.removedAt = removedAt
    }

    /// The rows `clauses` select (SQL after `FROM segment`: a `WHERE`, an `ORDER BY`), each column selected in
    /// ``Column``'s order. The statement is prepared once per connection and kept: built again from GRDB's query
    /// interface at each call, a look-up by SHA-256 took 140 µs instead of 24 (BENCHMARKS.md).
    static func fetch(_ db: Database, _ clauses: String, _ arguments: StatementArguments = []) throws -> [SegmentRow] {
        try fetchAll(db.cachedStatement(sql: selectSQL + clauses), arguments: arguments)
    }

    private static let selectSQL = "SELECT \(Column.selected.map(\.rawValue).joined(separator: ", ")) FROM segment "

    /// The fetched segment that is `entry` of `feed` (one at most: the pair is unique).
    static func fetched(feed: String, entry: String, _ db: Database) throws -> SegmentRow? {
        try fetch(db, "WHERE feed = ? AND feed_entry = ?", [feed, entry]).first
    }

    init(row: Row) throws {
        // A value that is not what the schema says (a row edited by hand) is an error, not a crash.
        func value<Value: DatabaseValueConvertible>(_ column: Column) throws -> Value { try row.decode(atIndex: column.position) }
        func optional<Value: DatabaseValueConvertible>(_ column: Column) throws -> Value? { try row.decode(atIndex: column.position) }
        var loudness: Loudness?
        if let integrated: Double = try optional(.loudnessLUFS), let peak: Double = try optional(.truePeakDBTP) {
            loudness = Loudness(integratedLUFS: integrated, truePeakDBTP: peak)
        }
        var origin: FeedOrigin?
        if let feed: String = try optional(.feed), let entry: String = try optional(.feedEntry) {
            let requested: RequestedAirings? = if let n: Int = try optional(.requestedPerWeek) { .perWeek(n) }
                else if let n: Int = try optional(.requestedTotal) { .total(n) } else { nil }
            origin = FeedOrigin(feed: feed, entry: entry, category: try optional(.category),
                                priority: (try optional(.priority) as String?).flatMap(Priority.init(rawValue:)) ?? .normal,
                                validFrom: (try optional(.validFrom) as String?).flatMap(LocalDate.init(parsing:)),
                                validUntil: (try optional(.validUntil) as String?).flatMap(LocalDate.init(parsing:)),
                                requested: requested)
        }
        segment = Segment(id: try value(.id), title: try value(.title),
                          pillar: (try optional(.pillar) as String?).flatMap(Pillar.init(rawValue:)), campaign: try optional(.campaign),
                          path: try value(.path), durationSeconds: try value(.durationSeconds), format: try value(.format),
                          sampleRate: try value(.sampleRate), channels: try value(.channels), sha256: try value(.sha256),
                          loudness: loudness, playoutPath: try optional(.playoutPath), origin: origin)
        importedAt = Date(timeIntervalSince1970: try value(.importedAt))
        removedAt = (try optional(.removedAt) as Double?).map(Date.init(timeIntervalSince1970:))
    }

    /// Instants as seconds since 1970 (GRDB's own `Date` text would not sort with the rows already there).
    func encode(to container: inout PersistenceContainer) throws {
        let origin = segment.origin
        for column in Column.selected {
            let value: (any DatabaseValueConvertible)? = switch column {
            case .id: segment.id
            case .title: segment.title
            case .pillar: segment.pillar?.rawValue
            case .campaign: segment.campaign
            case .path: segment.path
            case .durationSeconds: segment.durationSeconds
            case .format: segment.format
            case .sampleRate: segment.sampleRate
            case .channels: segment.channels
            case .sha256: segment.sha256
            case .importedAt: importedAt.timeIntervalSince1970
            case .loudnessLUFS: segment.loudness?.integratedLUFS
            case .truePeakDBTP: segment.loudness?.truePeakDBTP
            case .playoutPath: segment.playoutPath
            case .feed: origin?.feed
            case .feedEntry: origin?.entry
            case .category: origin?.category
            case .priority: segment.priority.rawValue
            case .validFrom: origin?.validFrom?.description
            case .validUntil: origin?.validUntil?.description
            case .requestedPerWeek: if case let .perWeek(n)? = origin?.requested { n } else { nil }
            case .requestedTotal: if case let .total(n)? = origin?.requested { n } else { nil }
            case .removedAt: removedAt?.timeIntervalSince1970
            }
            container[column] = value
        }
    }
}
