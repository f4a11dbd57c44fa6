import Foundation
import GRDB
import LoaCore

/// What the commune last accepted from one upstream feed.
public struct FeedState: Sendable, Hashable {
    public var name: String
    public var publisher: String?
    /// The highest manifest sequence accepted: a lower one is a rollback and is refused.
    public var sequence: Int?
    public var expires: Date?
    /// The manifest's validators, for a conditional request that an unchanged feed answers 304.
    public var etag: String?
    public var lastModified: String?
    public var acceptedAt: Date?
    public var checkedAt: Date?
    /// SHA-256 of files refused for their content under `sequence`: not downloaded again until it changes.
    public var rejected: Set<String>

    public init(name: String, publisher: String? = nil, sequence: Int? = nil, expires: Date? = nil, etag: String? = nil,
                lastModified: String? = nil, acceptedAt: Date? = nil, checkedAt: Date? = nil, rejected: Set<String> = []) {
        self.rejected = rejected
        self.name = name
        self.publisher = publisher
        self.sequence = sequence
        self.expires = expires
        self.etag = etag
        self.lastModified = lastModified
        self.acceptedAt = acceptedAt
        self.checkedAt = checkedAt
    }
}

/// The `feed` table: one row per `[[feed]]` name ever fetched.
public struct FeedStates: Sendable {
    public let database: StationDatabase

    public init(_ database: StationDatabase) { self.database = database }

    public func state(_ name: String) throws(StoreError) -> FeedState {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM feed WHERE name = ?", arguments: [name]) else {
                return FeedState(name: name)
            }
            return FeedState(name: name, publisher: row["publisher"], sequence: row["sequence"],
                             expires: (row["expires"] as Double?).map(Date.init(timeIntervalSince1970:)),
                             etag: row["etag"], lastModified: row["last_modified"],
                             acceptedAt: (row["accepted_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                             checkedAt: (row["checked_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                             rejected: Set(((row["rejected"] as String?) ?? "").split(separator: ",").map(String.init)))
        }
    }

    public func save(_ state: FeedState) throws(StoreError) {
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO feed (name, publisher, sequence, expires, etag, last_modified, accepted_at, checked_at, rejected)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET publisher = excluded.publisher, sequence = excluded.sequence,
                    expires = excluded.expires, etag = excluded.etag, last_modified = excluded.last_modified,
                    accepted_at = excluded.accepted_at, checked_at = excluded.checked_at, rejected = excluded.rejected
                """, arguments: [state.name, state.publisher, state.sequence, state.expires?.timeIntervalSince1970,
                                 state.etag, state.lastModified, state.acceptedAt?.timeIntervalSince1970,
                                 state.checkedAt?.timeIntervalSince1970, state.rejected.sorted().joined(separator: ",")])
        }
    }
}
