import Foundation
import GRDB
import LoaCore

/// The segments the station can air, as imported with `loa segment add`.
public struct SegmentLibrary: Sendable {
    public let database: StationDatabase

    public init(_ database: StationDatabase) { self.database = database }

    public func all() throws(StoreError) -> [Segment] {
        try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM segment ORDER BY id").map(SegmentLibrary.segment) }
    }

    public func segment(sha256: String) throws(StoreError) -> Segment? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM segment WHERE sha256 = ?", arguments: [sha256]).map(SegmentLibrary.segment)
        }
    }

    /// Inserts `segment`, giving it an id derived from `segment.id` that no other segment has.
    @discardableResult
    public func add(_ segment: Segment, importedAt: Date) throws(StoreError) -> Segment {
        try database.write { db in
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
            return stored
        }
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
                loudness: loudness(row), playoutPath: row["playout_path"])
    }

    static func loudness(_ row: Row) -> Loudness? {
        guard let integrated: Double = row["loudness_lufs"], let peak: Double = row["true_peak_dbtp"] else { return nil }
        return Loudness(integratedLUFS: integrated, truePeakDBTP: peak)
    }
}
