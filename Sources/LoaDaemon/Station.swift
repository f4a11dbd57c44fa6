import Foundation
import LoaConfig
import LoaCore
import LoaFeed
import LoaStore

/// Everything the daemon reads from disk at start and on reload.
public struct Station: Sendable {
    public var config: StationConfig
    public var schedules: ScheduleSet
    public var database: StationDatabase

    public var log: AiringLog { AiringLog(database) }
    public var library: SegmentLibrary { SegmentLibrary(database) }
    public var planner: Planner { Planner(calendar: config.calendar) }

    /// Reads `loa.toml`, the schedule folder, and opens the database as `access` says.
    public static func load(configFile: URL, access: DatabaseAccess) throws -> Station {
        try load(config: StationConfig.load(configFile), access: access)
    }

    /// Reads the schedule folder of an already parsed `loa.toml`, and opens the database as `access` says.
    public static func load(config: StationConfig, access: DatabaseAccess) throws -> Station {
        try load(config: config, database: StationDatabase.open(path: config.database, access))
    }

    /// Reads the schedule folder of an already parsed `loa.toml`, with a database already open.
    public static func load(config: StationConfig, database: StationDatabase) -> Station {
        let base = config.file.deletingLastPathComponent()
        let schedules = ScheduleSet.load(folder: config.schedules, relativeTo: base)
        return Station(config: config, schedules: schedules, database: database)
    }

    /// Every problem in the schedules, including content that cannot be found.
    public func validate() throws -> [Diagnostic] {
        try Station.validate(schedules, audio: config.audio, library: library.all(), sources: config.sources)
    }

    /// Every problem in `schedules`, including entries that are not a segment of `library` (a file under `audio`
    /// that was never imported would fail on air) and relays of a source `sources` (`loa.toml`'s) does not name, in
    /// file and line order.
    public static func validate(_ schedules: ScheduleSet, audio: URL, library segments: [Segment],
                                sources: [UpstreamSource]) -> [Diagnostic] {
        // What `Planner.resolve` finds (an id, or a path with or without "./"), looked up rather than searched for
        // each of thousands of entries.
        let ids = Set(segments.map(\.id)), paths = Set(segments.map(\.path))
        let validator = ScheduleValidator(sources: sources.map(\.name), entryState: { entry in
            if ids.contains(entry) || paths.contains(entry.hasPrefix("./") ? String(entry.dropFirst(2)) : entry) { return .airable }
            let file = audio.appendingPathComponent(entry).path
            var isFolder: ObjCBool = false
            // A folder is no file to import.
            return FileManager.default.fileExists(atPath: file, isDirectory: &isFolder) && !isFolder.boolValue ? .notImported(file: file) : .missing
        })
        return (schedules.problems + validator.validate(schedules.slots))
            .sorted { ($0.location.file, $0.location.line) < ($1.location.file, $1.location.line) }
    }
}

extension Station {
    /// A fetcher of `feed` into this station's audio folder and library.
    public func feedFetcher(_ feed: FeedConfig, transport: any FeedTransport, clock: any WallClock) -> FeedFetcher {
        FeedFetcher(feed: feed, audio: config.audio, library: library, states: FeedStates(database), transport: transport,
                    clock: clock, calendar: config.calendar)
    }
}

extension Station {
    /// Removes the files of fetched segments past their `valid_until` that no slot of today or tomorrow names
    /// (see ``FeedExpiry``); returns them.
    public func removeExpiredFeedSegments(now: Date) throws -> [Segment] {
        try FeedExpiry.removeFiles(library: library, audio: config.audio, slots: schedules.slots,
                                   today: config.calendar.localDate(of: now), now: now)
    }
}
