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
            try Row.fetchAll(db, sql: "SELECT * FROM segment WHERE removed_at IS NULL ORDER BY id").map(SegmentLibrary.segment)
        }
    }

    /// Every segment ever in the library, removed ones too (a report of a past period names what aired then).
    public func everything() throws(StoreError) -> [Segment] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM segment ORDER BY id").map(SegmentLibrary.segment)
        }
    }

    /// Marks a fetched segment whose files were removed; it leaves ``all()``, its row stays for the log.
    public func markRemoved(_ id: String, at instant: Date) throws(StoreError) {
        try database.write { db in
            try db.execute(sql: "UPDATE segment SET removed_at = ?, playout_path = NULL WHERE id = ?",
                           arguments: [instant.timeIntervalSince1970, id])
        }
    }

    /// The segment (not removed) whose audio has this SHA-256.
    public func segment(sha256: String) throws(StoreError) -> Segment? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM segment WHERE sha256 = ? AND removed_at IS NULL", arguments: [sha256])
                .map(SegmentLibrary.segment)
        }
    }

    /// Inserts `segment`, giving it an id derived from `segment.id` that no other segment has.
    @discardableResult
    public func add(_ segment: Segment, importedAt: Date) throws(StoreError) -> Segment {
        try database.write { db in try SegmentLibrary.insert(segment, importedAt: importedAt, db) }
    }

    private static func insert(_ segment: Segment, importedAt: Date, _ db: Database) throws -> Segment {
        var stored = segment
        var n = 1
        while try Bool.fetchOne(db, sql: "SELECT 1 FROM segment WHERE id = ?", arguments: [stored.id]) == true {
            n += 1
            stored.id = "\(segment.id)-\(n)"
        }
        try db.execute(sql: """
            INSERT INTO segment (id, title, pillar, campaign, path, duration_seconds, format, sample_rate, channels, sha256,
                                 imported_at, loudness_lufs, true_peak_dbtp, playout_path)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [stored.id, stored.title, stored.pillar?.rawValue, stored.campaign, stored.path,
                             stored.durationSeconds, stored.format, stored.sampleRate, stored.channels, stored.sha256,
                             importedAt.timeIntervalSince1970, stored.loudness?.integratedLUFS, stored.loudness?.truePeakDBTP,
                             stored.playoutPath])
        try writeOrigin(stored, db)
        return stored
    }

    /// The segments (not removed) whose file is `path`, relative to the audio folder.
    public func segments(path: String) throws(StoreError) -> [Segment] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM segment WHERE path = ? AND removed_at IS NULL", arguments: [path])
                .map(SegmentLibrary.segment)
        }
    }

    /// The segment fetched as `entry` of `feed`, if the library has it.
    public func segment(feed: String, entry: String) throws(StoreError) -> Segment? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM segment WHERE feed = ? AND feed_entry = ?", arguments: [feed, entry])
                .map(SegmentLibrary.segment)
        }
    }

    /// Installs a segment fetched from a feed in one transaction: a new entry is added (under a free id), a
    /// changed one replaces its previous version's file, metadata and terms under the same id, so the log's
    /// rows for the old version keep pointing at it. Returns the stored segment.
    @discardableResult
    public func install(_ segment: Segment, importedAt: Date) throws(StoreError) -> Segment {
        guard let origin = segment.origin else { return try add(segment, importedAt: importedAt) }
        return try database.write { db in
            guard let previous = try String.fetchOne(db, sql: "SELECT id FROM segment WHERE feed = ? AND feed_entry = ?",
                                                     arguments: [origin.feed, origin.entry]) else {
                return try SegmentLibrary.insert(segment, importedAt: importedAt, db)
            }
            var stored = segment
            stored.id = previous
            try db.execute(sql: """
                UPDATE segment SET title = ?, pillar = ?, campaign = ?, path = ?, duration_seconds = ?, format = ?,
                                   sample_rate = ?, channels = ?, sha256 = ?, imported_at = ?, loudness_lufs = ?,
                                   true_peak_dbtp = ?, playout_path = ?, removed_at = NULL
                WHERE id = ?
                """, arguments: [stored.title, stored.pillar?.rawValue, stored.campaign, stored.path, stored.durationSeconds,
                                 stored.format, stored.sampleRate, stored.channels, stored.sha256,
                                 importedAt.timeIntervalSince1970, stored.loudness?.integratedLUFS,
                                 stored.loudness?.truePeakDBTP, stored.playoutPath, previous])
            try SegmentLibrary.writeOrigin(stored, db)
            return stored
        }
    }

    /// Updates the publisher's terms (priority, validity, request, category) of an installed feed segment whose
    /// audio did not change. Returns false when the library has no such entry.
    @discardableResult
    public func updateTerms(_ origin: FeedOrigin, title: String, pillar: Pillar?, campaign: String?) throws(StoreError) -> Bool {
        try database.write { db in
            try db.execute(sql: "UPDATE segment SET title = ?, pillar = ?, campaign = ? WHERE feed = ? AND feed_entry = ?",
                           arguments: [title, pillar?.rawValue, campaign, origin.feed, origin.entry])
            guard db.changesCount > 0,
                  let id = try String.fetchOne(db, sql: "SELECT id FROM segment WHERE feed = ? AND feed_entry = ?",
                                               arguments: [origin.feed, origin.entry]) else { return false }
            try SegmentLibrary.writeOrigin(id: id, origin, db)
            return true
        }
    }

    private static func writeOrigin(_ segment: Segment, _ db: Database) throws {
        guard let origin = segment.origin else { return }
        try writeOrigin(id: segment.id, origin, db)
    }

    private static func writeOrigin(id: String, _ origin: FeedOrigin, _ db: Database) throws {
        var perWeek: Int?, total: Int?
        switch origin.requested {
        case let .perWeek(n)?: perWeek = n
        case let .total(n)?: total = n
        case nil: break
        }
        try db.execute(sql: """
            UPDATE segment SET feed = ?, feed_entry = ?, category = ?, priority = ?, valid_from = ?, valid_until = ?,
                               requested_per_week = ?, requested_total = ?
            WHERE id = ?
            """, arguments: [origin.feed, origin.entry, origin.category, origin.priority.rawValue, origin.validFrom?.description,
                             origin.validUntil?.description, perWeek, total, id])
    }

    /// Records the loudness of a segment imported before Loa measured it. Returns false if no segment has `id`.
    @discardableResult
    public func setLoudness(_ loudness: Loudness, segmentID id: String) throws(StoreError) -> Bool {
        try database.write { db in
            try db.execute(sql: "UPDATE segment SET loudness_lufs = ?, true_peak_dbtp = ? WHERE id = ?",
                           arguments: [loudness.integratedLUFS, loudness.truePeakDBTP, id])
            return db.changesCount > 0
        }
    }

    /// Records the playout copy of segment `id` (relative to the audio folder). Returns false if no segment has `id`.
    @discardableResult
    public func setPlayoutPath(_ playoutPath: String, segmentID id: String) throws(StoreError) -> Bool {
        try database.write { db in
            try db.execute(sql: "UPDATE segment SET playout_path = ? WHERE id = ?", arguments: [playoutPath, id])
            return db.changesCount > 0
        }
    }

    static func segment(_ row: Row) -> Segment {
        Segment(id: row["id"], title: row["title"], pillar: (row["pillar"] as String?).flatMap(Pillar.init(rawValue:)),
                campaign: row["campaign"], path: row["path"], durationSeconds: row["duration_seconds"],
                format: row["format"], sampleRate: row["sample_rate"], channels: row["channels"], sha256: row["sha256"],
                loudness: loudness(row), playoutPath: row["playout_path"], origin: origin(row))
    }

    static func origin(_ row: Row) -> FeedOrigin? {
        guard let feed: String = row["feed"], let entry: String = row["feed_entry"] else { return nil }
        let requested: RequestedAirings? = if let n: Int = row["requested_per_week"] { .perWeek(n) }
            else if let n: Int = row["requested_total"] { .total(n) } else { nil }
        return FeedOrigin(feed: feed, entry: entry, category: row["category"],
                          priority: (row["priority"] as String?).flatMap(Priority.init(rawValue:)) ?? .normal,
                          validFrom: (row["valid_from"] as String?).flatMap(LocalDate.init(parsing:)),
                          validUntil: (row["valid_until"] as String?).flatMap(LocalDate.init(parsing:)), requested: requested)
    }

    static func loudness(_ row: Row) -> Loudness? {
        guard let integrated: Double = row["loudness_lufs"], let peak: Double = row["true_peak_dbtp"] else { return nil }
        return Loudness(integratedLUFS: integrated, truePeakDBTP: peak)
    }
}
