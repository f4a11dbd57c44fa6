import Foundation
import GRDB
import LoaCore

/// What went wrong with the station's database, worded for the operator.
public enum StoreError: OperatorFacingError, Sendable {
    case open(path: String, message: String)
    case query(path: String, message: String)
    /// The disk refused a write or a read (full, failing, read-only, the file gone or damaged): what could not be
    /// written is worth keeping and trying again, unlike a query the database itself refuses.
    case disk(path: String, message: String)
    /// A command that only reads found no database where `loa.toml` says it is: it does not make an empty one.
    case missing(path: String)
    /// The folder `loa.toml` puts the database in does not exist: most likely a typo, so nothing is made there.
    case missingFolder(path: String)

    public var description: String {
        switch self {
        case let .open(path, message): "\(path): không mở được cơ sở dữ liệu: \(message)"
        case let .query(path, message): "\(path): lỗi cơ sở dữ liệu: \(message)"
        case let .disk(path, message): "\(path): không ghi hoặc đọc được trên đĩa: \(message)"
        case let .missing(path):
            "\(path): không có cơ sở dữ liệu ở đây (bị xóa hoặc chưa tạo); lệnh này không tạo tệp rỗng — khôi phục bản sao lưu, hoặc `loa segment add` / `loa daemon` để tạo mới"
        case let .missingFolder(path):
            "\(path): không có thư mục \((path as NSString).deletingLastPathComponent) để đặt cơ sở dữ liệu; lệnh này không tự tạo — sửa “database” trong loa.toml nếu gõ nhầm, hoặc tạo thư mục (`mkdir -p`) nếu đúng là nơi đó"
        }
    }

    /// Whether the write that failed so may go in later: the disk or the file failed, not the statement.
    public var isDiskFault: Bool {
        if case .disk = self { true } else { false }
    }
}

/// The station's SQLite file: the segment library and the airing log, in WAL mode with
/// `synchronous=FULL`, so an airing that was logged survives a power cut.
public final class StationDatabase: @unchecked Sendable {
    public let path: String
    /// The open pool and the file it was opened on; replaced together when the file is recreated (``recreate(at:)``)
    /// or reopened for writing after a read-only start (``openForPlayout(path:)``).
    private var state: (pool: any DatabaseWriter, file: FileIdentity?)
    private let lock = NSLock()

    /// Set when the recreated file could not be opened: the next use tries again.
    private var reopenNeeded = false

    /// Whether the database could only be read when it was opened (``openForPlayout(path:)``): writes are refused
    /// until a writable open succeeds, and ids read from it may lag behind rows only its WAL held.
    public var isReadOnly: Bool { lock.withLock { readOnly } }
    private var readOnly = false

    var pool: any DatabaseWriter {
        lock.withLock {
            if reopenNeeded, let pool = try? StationDatabase.openPool(path) {
                state = (pool, FileIdentity(path: path))
                reopenNeeded = false
                readOnly = false
            }
            return state.pool
        }
    }

    /// Opens the database at `path`; with `create` (the daemon, and commands that add to the library) a missing
    /// file is created (``wasCreated``), otherwise a missing file is ``StoreError/missing(path:)``: a lost database
    /// must not be replaced by an empty one unnoticed. A missing folder is made only with `createFolder` (the
    /// daemon, which airs whatever else is wrong); otherwise it is ``StoreError/missingFolder(path:)``.
    public init(path: URL, create: Bool = true, createFolder: Bool = false) throws(StoreError) {
        self.path = path.path
        readOnlyReason = nil
        let existed = FileManager.default.fileExists(atPath: path.path)
        if !create && !existed { throw .missing(path: path.path) }
        let folder = path.deletingLastPathComponent()
        if !existed, !createFolder { try StationDatabase.checkFolder(of: path) }
        do {
            if createFolder { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
            state = (try StationDatabase.openPool(path.path), FileIdentity(path: path.path))
        } catch let error as StoreError {
            throw error
        } catch {
            throw .open(path: path.path, message: StationDatabase.message(error))
        }
        wasCreated = !existed
    }

    /// Throws ``StoreError/missingFolder(path:)`` when the folder that should hold the database at `path` is not there.
    public static func checkFolder(of path: URL) throws(StoreError) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.deletingLastPathComponent().path, isDirectory: &isFolder), isFolder.boolValue else {
            throw .missingFolder(path: path.path)
        }
    }

    /// Whether this open made the database file: a first run, or a database that was lost.
    public private(set) var wasCreated = false

    /// Opens the database as a command needs it (``DatabaseAccess``).
    public static func open(path: URL, _ access: DatabaseAccess) throws(StoreError) -> StationDatabase {
        switch access {
        case .create: return try StationDatabase(path: path, create: true)
        case .write: return try StationDatabase(path: path, create: false)
        case .read, .readOrEmpty:
            guard FileManager.default.fileExists(atPath: path.path) else {
                guard access == .readOrEmpty else { throw .missing(path: path.path) }
                do { return StationDatabase(path: path.path, reading: try emptyInMemory()) } catch {
                    throw .open(path: path.path, message: message(error))
                }
            }
            // A database nobody may write (no write bit at all), with no `-shm` beside it (no connection has it open)
            // and no WAL content, is the file alone: it is read so (`immutable`), and the reader leaves no `-shm` or
            // `-wal` behind, which would carry the database's mode and the reader's owner (0444) and block the next
            // writer once the database is writable again. A database someone may write is read through its WAL, as
            // SQLite means it to be: a reader without locks could mix pages of a write done meanwhile, and the files it
            // may leave are mended by the next writer (``clearSidecarsBlockingWrites(_:)``). The sidecars are looked for
            // beside the real file: SQLite puts them there, not beside a symlink to it.
            let real = realPath(path.path)
            if isWritableByNobody(real), !FileManager.default.fileExists(atPath: real + "-shm"), walBytes(real) ?? 0 == 0,
               let reader = try? openReadOnly(path.path) {
                return StationDatabase(path: path.path, reading: reader)
            }
            do {
                var configuration = Configuration()
                configuration.readonly = true
                configuration.busyMode = .timeout(5)
                configuration.label = "loa-read"
                let pool = try DatabasePool(path: path.path, configuration: configuration)
                // A file an older Loa wrote has not got this version's columns: reading it would go wrong.
                guard try pool.read({ db in try migrator.hasCompletedMigrations(db) }) else {
                    throw DatabaseError(resultCode: .SQLITE_READONLY,
                                        message: "cơ sở dữ liệu của bản Loa cũ: chạy `loa daemon` hoặc `loa segment add` một lần để nâng cấp")
                }
                return StationDatabase(path: path.path, reading: pool)
            } catch {
                // A WAL reader needs the `-shm`; where it cannot make one (a read-only folder, a full disk) and
                // there is no WAL content to miss, the file alone is the whole database.
                if walBytes(real) ?? 0 == 0, let reader = try? openReadOnly(path.path) {
                    return StationDatabase(path: path.path, reading: reader)
                }
                throw .open(path: path.path, message: message(error))
            }
        }
    }

    /// An empty library and log in memory, named `path` in messages: what a check reads when the file cannot be.
    public static func empty(path: URL) throws(StoreError) -> StationDatabase {
        do { return StationDatabase(path: path.path, reading: try emptyInMemory()) } catch {
            throw .open(path: path.path, message: message(error))
        }
    }

    private init(path: String, reading: any DatabaseWriter) {
        self.path = path
        state = (reading, FileIdentity(path: path))
        readOnlyReason = nil
    }

    /// An empty library and log, in memory: what a setup command sees before anything was imported.
    private static func emptyInMemory() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try migrator.migrate(queue)
        return queue
    }

    /// Opens the database for the daemon, which must air whatever its disk does: when the file cannot be opened for
    /// writing (a full disk cannot take its `-shm`, a read-only mount), it is opened read-only, so the library and
    /// the history still plan the day; writes are refused as disk faults (held by the daemon's writer), and every
    /// use tries a writable open again. Only a file that cannot even be read is an error.
    public static func openForPlayout(path: URL) throws(StoreError) -> StationDatabase {
        do {
            return try StationDatabase(path: path, create: true, createFolder: true)
        } catch let writable {
            guard FileManager.default.fileExists(atPath: path.path), let reader = try? openReadOnly(path.path) else {
                throw writable
            }
            return StationDatabase(path: path.path, readOnly: reader, because: writable)
        }
    }

    /// Why the database was opened read-only by ``openForPlayout(path:)``: what the writable open said.
    public let readOnlyReason: StoreError?

    private init(path: String, readOnly reader: DatabaseQueue, because reason: StoreError) {
        self.path = path
        state = (reader, FileIdentity(path: path))
        readOnly = true
        reopenNeeded = true
        readOnlyReason = reason
    }

    /// The file as it was last checkpointed, read without the `-shm` a WAL reader needs (a full disk cannot make
    /// one): `immutable` reads the main file only.
    private static func openReadOnly(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "loa-readonly"
        let url = URL(fileURLWithPath: path).absoluteString + "?immutable=1"
        let queue = try DatabaseQueue(path: url, configuration: configuration)
        // A file this version never migrated would be read with the wrong columns: refuse it.
        guard try queue.read({ db in try StationDatabase.migrator.hasCompletedMigrations(db) }) else {
            throw DatabaseError(resultCode: .SQLITE_READONLY, message: "cần nâng cấp nhưng không ghi được")
        }
        return queue
    }

    /// Whether the file at `path` has no write bit for anyone (root aside, nobody writes it).
    private static func isWritableByNobody(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & 0o222 == 0
    }

    /// `path` with every symlink resolved (the file's and its folders'), also when the file does not exist yet or
    /// is a link to a file not made yet (SQLite would create the link's target): the name of the file itself, beside
    /// which SQLite keeps its `-wal` and `-shm`.
    public static func realPath(_ path: String) -> String {
        var current = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        for _ in 0..<40 {
            if let resolved = realpath(current, nil) {
                defer { free(resolved) }
                return String(cString: resolved)
            }
            let folder = (current as NSString).deletingLastPathComponent
            let name = (current as NSString).lastPathComponent
            // A dangling link: follow it by hand, relative to its folder.
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current) {
                current = target.hasPrefix("/") ? target : folder + "/" + target
                continue
            }
            guard let parent = realpath(folder, nil) else { return current }
            defer { free(parent) }
            let base = String(cString: parent)
            return (base.hasSuffix("/") ? base : base + "/") + name
        }
        return current
    }

    /// The size of the database's WAL file; nil when there is none.
    private static func walBytes(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? nil
    }

    private static func openPool(_ path: String) throws -> DatabasePool {
        try clearSidecarsBlockingWrites(path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "loa"
        let pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB sets synchronous=NORMAL on the writer when it enables WAL; every airing row must hit the disk.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try StationDatabase.migrator.migrate(pool)
        return pool
    }

    /// Append-only: a landed migration is never edited; changes come as new ones.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-library-and-airing-log") { db in
            try db.create(table: "segment") { t in
                t.primaryKey("id", .text)
                t.column("title", .text).notNull()
                t.column("pillar", .text)
                t.column("campaign", .text)
                t.column("path", .text).notNull().unique()
                t.column("duration_seconds", .double).notNull()
                t.column("format", .text).notNull()
                t.column("sample_rate", .integer).notNull()
                t.column("channels", .integer).notNull()
                t.column("sha256", .text).notNull().unique()
                t.column("imported_at", .double).notNull()
            }
            try db.create(table: "airing") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("slot", .text).notNull()
                t.column("slot_starts_at", .double).notNull()
                t.column("segment_id", .text).notNull()
                t.column("title", .text).notNull()
                t.column("pillar", .text)
                t.column("campaign", .text)
                t.column("path", .text).notNull()
                t.column("scheduled_at", .double).notNull()
                t.column("started_at", .double)
                t.column("ended_at", .double)
                t.column("aired_seconds", .double).notNull().defaults(to: 0)
                t.column("outcome", .text).notNull()
                t.column("reason", .text)
                t.column("device", .text)
                t.column("xruns", .integer).notNull().defaults(to: 0)
            }
            try db.create(index: "airing_by_time", on: "airing", columns: ["scheduled_at"])
            try db.create(index: "airing_by_occurrence", on: "airing", columns: ["slot", "slot_starts_at"])
        }
        // Null for segments imported before loudness was measured; both are set together.
        migrator.registerMigration("v2-segment-loudness") { db in
            try db.alter(table: "segment") { t in
                t.add(column: "loudness_lufs", .double)
                t.add(column: "true_peak_dbtp", .double)
            }
        }
        migrator.registerMigration("v3-airing-kind-policy-plan") { db in
            try db.alter(table: "airing") { t in
                t.add(column: "kind", .text).notNull().defaults(to: "segment")
                t.add(column: "policy", .text)
                t.add(column: "lost_seconds", .double).notNull().defaults(to: 0)
                t.add(column: "planned_seconds", .double).notNull().defaults(to: 0)
            }
        }
        // Null for segments imported before playout copies were made; the daemon makes them at start.
        migrator.registerMigration("v4-segment-playout-copy") { db in
            try db.alter(table: "segment") { t in t.add(column: "playout_path", .text) }
        }
        // Segments fetched from upstream feeds: provenance and the publisher's terms (all null for ones imported by
        // hand, priority `normal`); per feed, what was last accepted, for rollback refusal and conditional requests.
        migrator.registerMigration("v5-feeds") { db in
            try db.alter(table: "segment") { t in
                t.add(column: "feed", .text)
                t.add(column: "feed_entry", .text)
                t.add(column: "category", .text)
                t.add(column: "priority", .text).notNull().defaults(to: "normal")
                t.add(column: "valid_from", .text)
                t.add(column: "valid_until", .text)
                t.add(column: "requested_per_week", .integer)
                t.add(column: "requested_total", .integer)
            }
            try db.create(index: "segment_by_feed_entry", on: "segment", columns: ["feed", "feed_entry"], unique: true)
            try db.create(table: "feed") { t in
                t.primaryKey("name", .text)
                t.column("publisher", .text)
                t.column("sequence", .integer)
                t.column("expires", .double)
                t.column("etag", .text)
                t.column("last_modified", .text)
                t.column("accepted_at", .double)
                t.column("checked_at", .double)
            }
        }
        // A fetched segment past its valid_until whose files were removed: the row stays for the log and reports.
        migrator.registerMigration("v6-segment-removed") { db in
            try db.alter(table: "segment") { t in t.add(column: "removed_at", .double) }
        }
        // Per feed, the SHA-256 of files refused for their content under the accepted sequence (comma-separated).
        migrator.registerMigration("v7-feed-rejected") { db in
            try db.alter(table: "feed") { t in t.add(column: "rejected", .text) }
        }
        // What the log keeps of the file aired, so reports stay whole after a fetched segment's file is removed.
        // Rows from before take them from the library, where the segment is still there and the row is not
        // older than the version in the library (a replaced version's airings stay without: not guessed).
        migrator.registerMigration("v8-airing-sha256-category-feed") { db in
            try db.alter(table: "airing") { t in
                t.add(column: "sha256", .text)
                t.add(column: "category", .text)
                t.add(column: "feed", .text)
            }
            try db.execute(sql: """
                UPDATE airing SET (sha256, category, feed) =
                    (SELECT segment.sha256, segment.category, segment.feed FROM segment WHERE segment.id = airing.segment_id)
                WHERE kind != 'announcement' AND EXISTS (SELECT 1 FROM segment WHERE segment.id = airing.segment_id
                                                         AND airing.scheduled_at >= segment.imported_at)
                """)
        }
        // A removed segment's audio may come back: re-published under a new entry (a campaign aired again next
        // year) or imported by hand. Content and path stay unique among the segments that can air, not among
        // the rows kept for the log. SQLite drops a column's UNIQUE only by rebuilding the table.
        migrator.registerMigration("v9-segment-unique-while-kept") { db in
            try db.create(table: "segment_v9") { t in
                t.primaryKey("id", .text)
                t.column("title", .text).notNull()
                t.column("pillar", .text)
                t.column("campaign", .text)
                t.column("path", .text).notNull()
                t.column("duration_seconds", .double).notNull()
                t.column("format", .text).notNull()
                t.column("sample_rate", .integer).notNull()
                t.column("channels", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("imported_at", .double).notNull()
                t.column("loudness_lufs", .double)
                t.column("true_peak_dbtp", .double)
                t.column("playout_path", .text)
                t.column("feed", .text)
                t.column("feed_entry", .text)
                t.column("category", .text)
                t.column("priority", .text).notNull().defaults(to: "normal")
                t.column("valid_from", .text)
                t.column("valid_until", .text)
                t.column("requested_per_week", .integer)
                t.column("requested_total", .integer)
                t.column("removed_at", .double)
            }
            let columns = """
                id, title, pillar, campaign, path, duration_seconds, format, sample_rate, channels, sha256, imported_at,
                loudness_lufs, true_peak_dbtp, playout_path, feed, feed_entry, category, priority, valid_from, valid_until,
                requested_per_week, requested_total, removed_at
                """
            try db.execute(sql: "INSERT INTO segment_v9 (\(columns)) SELECT \(columns) FROM segment")
            try db.drop(table: "segment")
            try db.rename(table: "segment_v9", to: "segment")
            try db.create(index: "segment_by_feed_entry", on: "segment", columns: ["feed", "feed_entry"], unique: true)
            try db.execute(sql: "CREATE UNIQUE INDEX segment_kept_by_sha256 ON segment(sha256) WHERE removed_at IS NULL")
            try db.execute(sql: "CREATE UNIQUE INDEX segment_kept_by_path ON segment(path) WHERE removed_at IS NULL")
        }
        // Each final row chained to the one finished before it (AiringChain): its place and its hash, stored when
        // it is finished, so a row edited afterwards no longer matches. Rows already final are chained now, in
        // id order.
        migrator.registerMigration("v10-airing-chain") { db in
            try db.alter(table: "airing") { t in
                t.add(column: "chain_seq", .integer)
                t.add(column: "chain_hash", .text)
            }
            try db.execute(sql: "CREATE UNIQUE INDEX airing_by_chain_seq ON airing(chain_seq) WHERE chain_seq IS NOT NULL")
            try db.execute(sql: "CREATE INDEX airing_unchained ON airing(id) WHERE chain_seq IS NULL")
            try AiringLog.chainFinished(db, form: 1)
        }
        // The station and the Circular 39 level of each row, and what the monitor input heard while it aired.
        // Rows already chained keep the form they were hashed in (version 1, without these fields).
        migrator.registerMigration("v11-airing-station-priority-confirmed") { db in
            try db.alter(table: "airing") { t in
                t.add(column: "station", .text)
                t.add(column: "priority", .text)
                t.add(column: "confirmed", .text)
                t.add(column: "monitor_dbfs", .double)
                t.add(column: "chain_version", .integer)
            }
            try db.execute(sql: "UPDATE airing SET chain_version = 1 WHERE chain_seq IS NOT NULL")
            try db.execute(sql: """
                UPDATE airing SET priority = (SELECT priority FROM segment WHERE segment.id = airing.segment_id)
                WHERE chain_seq IS NULL AND kind IN ('segment', 'emergency')
                """)
        }
        // Why a row is not a plain airing, as a stable code (the old `reason` keeps its sentence on rows logged before,
        // and is the code's detail after); and the stretches of an item cut and resumed: the row a stretch continues
        // and where in the file its audio began. Rows already chained keep their form (1 or 2, without these fields).
        migrator.registerMigration("v12-airing-reason-code-stretches") { db in
            try db.alter(table: "airing") { t in
                t.add(column: "reason_code", .text)
                t.add(column: "continues", .integer)
                t.add(column: "from_seconds", .double).notNull().defaults(to: 0)
            }
            try db.execute(sql: "CREATE INDEX airing_by_continues ON airing(continues) WHERE continues IS NOT NULL")
        }
        return migrator
    }

    /// The writer connection's `PRAGMA synchronous` (2 is FULL).
    public func synchronousMode() throws(StoreError) -> Int {
        try write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.write(body) } catch {
            throw StationDatabase.storeError(path: path, error)
        }
    }

    /// `body` committed with `synchronous = NORMAL`: durable against a crash of the process, not a power cut. Every
    /// other write keeps `FULL`, set back whatever happens.
    func writeUnsynced(_ body: (Database) throws -> Void) throws(StoreError) {
        do {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
                try db.inTransaction {
                    try body(db)
                    return .commit
                }
            }
        } catch {
            throw StationDatabase.storeError(path: path, error)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch {
            throw StationDatabase.storeError(path: path, error)
        }
    }

    /// A disk fault (``StoreError/disk(path:message:)``) when SQLite's result says the disk or the file failed.
    static func storeError(path: String, _ error: any Error) -> StoreError {
        if let error = error as? DatabaseError, diskCodes.contains(error.resultCode.primaryResultCode) {
            return .disk(path: path, message: message(error))
        }
        return .query(path: path, message: message(error))
    }

    /// Full, I/O error, read-only, cannot open, damaged, not a database, busy or locked past the timeout, out of memory.
    static let diskCodes: [ResultCode] = [.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_CORRUPT,
                                             .SQLITE_NOTADB, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_PROTOCOL, .SQLITE_NOMEM,
                                             .SQLITE_PERM]

    static func message(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            // SQLite's words for the faults an operator can act on, said in Vietnamese with what to check.
            switch error.resultCode.primaryResultCode {
            case .SQLITE_NOTADB: return "tệp này không phải cơ sở dữ liệu SQLite của Loa: kiểm tra “database” trong loa.toml"
            case .SQLITE_CORRUPT: return "cơ sở dữ liệu bị hỏng (\(error.message ?? "SQLITE_CORRUPT")): sao chép tệp sang nơi khác rồi kiểm tra bằng `sqlite3 TỆP 'PRAGMA integrity_check'`"
            case .SQLITE_FULL: return "đĩa đầy (\(error.message ?? "SQLITE_FULL"))"
            default: return error.message ?? "\(error.resultCode)"
            }
        }
        return "\(error)"
    }
}

extension StationDatabase {
    /// Makes a `-shm` or `-wal` this process cannot write usable before a writable open, or says what to do: SQLite
    /// would open the database all the same and refuse every write with "attempt to write a readonly database",
    /// naming neither file. Such files are left by a reader run by another user, or while the database was read-only.
    /// One this user owns is given its write bit back; one owned by another user is removed when no connection has
    /// the database open (nobody holds SQLite's lock byte in the `-shm`) and the WAL holds nothing (a reader never
    /// writes to it); otherwise the open is refused, naming the file.
    static func clearSidecarsBlockingWrites(_ named: String) throws(StoreError) {
        let path = realPath(named)
        // The database itself first: its sidecars are not what blocks a user who may not write it at all.
        var database = stat()
        if lstat(path, &database) == 0, access(path, W_OK) != 0, errno == EACCES {
            throw .open(path: named, message: "người dùng này không ghi được tệp (của người dùng \(userName(database.st_uid))): "
                        + "chạy lệnh bằng người dùng đó (ví dụ `sudo -u \(userName(database.st_uid)) loa …`)")
        }
        for suffix in ["-shm", "-wal"] {
            let sidecar = path + suffix
            var info = stat()
            guard lstat(sidecar, &info) == 0, access(sidecar, W_OK) != 0, errno == EACCES else { continue }
            // lstat said it is no link: the mode change stays on the file itself.
            if info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid(), chmod(sidecar, (info.st_mode & 0o7777) | S_IWUSR) == 0 { continue }
            let owner = userName(info.st_uid)
            let inUse = someoneHoldsDatabase(path)
            if !inUse, suffix == "-shm" || info.st_size == 0, unlink(sidecar) == 0 { continue }
            let message = if inUse {
                "\(sidecar) do người dùng \(owner) tạo và người dùng này không ghi được; một tiến trình khác đang mở cơ sở dữ liệu: chạy lại lệnh khi nó đã dừng (Loa sẽ tự dọn tệp này)"
            } else if info.st_size > 0 {
                "\(sidecar) thuộc người dùng \(owner), người dùng này không ghi được, và nó còn dữ liệu chưa vào cơ sở dữ liệu: chạy lệnh một lần bằng người dùng \(owner), hoặc `chown` tệp cho người dùng chạy Loa"
            } else {
                "\(sidecar) thuộc người dùng \(owner), người dùng này không ghi được và không xóa được (thư mục không cho phép): xóa nó bằng người dùng \(owner) hoặc root (`rm \(sidecar)`)"
            }
            throw .open(path: path, message: message)
        }
    }

    /// The name of the user `uid`, or `uid N` when it has none.
    private static func userName(_ uid: uid_t) -> String {
        getpwuid(uid).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? "uid \(uid)"
    }

    /// Whether any connection has the database open: in WAL mode each holds a shared lock on the database file's
    /// SHARED range for as long as it is open, and one that can write the `-shm` also on its "dead man switch"
    /// byte (offset 128); a reader that could only map the `-shm` read-only holds only the first.
    private static func someoneHoldsDatabase(_ path: String) -> Bool {
        // SQLite's lock bytes: PENDING at 1 GiB, SHARED the 510 bytes from PENDING + 2.
        isLocked(path, start: 0x4000_0002, length: 510) || isLocked(path + "-shm", start: 128, length: 1)
    }

    /// Whether another process holds a POSIX lock on `length` bytes of `file` from `start`.
    private static func isLocked(_ file: String, start: Int, length: Int) -> Bool {
        let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var probe = flock()
        probe.l_type = Int16(F_WRLCK)
        probe.l_whence = Int16(SEEK_SET)
        probe.l_start = off_t(start)
        probe.l_len = off_t(length)
        guard fcntl(fd, F_GETLK, &probe) == 0 else { return true }
        return probe.l_type != Int16(F_UNLCK)
    }
}

/// Which file a path names (device and inode): a database deleted or replaced under an open connection is
/// told apart from the one that connection writes to.
struct FileIdentity: Equatable {
    let device: UInt64
    let inode: UInt64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// What became of the database's file under the open connection.
public enum DatabaseFileState: Sendable, Equatable {
    case inPlace
    /// Nothing at the path: every write would go into the unlinked file and be lost with it.
    case missing
    /// Another file at the path (a copy moved over it, a restore): the open connection no longer writes there.
    case replaced
}

extension StationDatabase {
    /// Whether the file at ``path`` is still the one the connection writes to.
    public func fileState() -> DatabaseFileState {
        let opened = lock.withLock { state.file }
        guard let now = FileIdentity(path: path) else { return .missing }
        return opened == nil || now == opened ? .inPlace : .replaced
    }

    /// Writes what the open connection holds to ``path`` again and reopens there, after the file was deleted or
    /// replaced under it. A file found in its place is moved aside (returned), never overwritten. The copy is made
    /// whole beside the path first (`VACUUM INTO`) and renamed into place, so the path never holds half a database.
    @discardableResult
    public func recreate(at instant: Date) throws(StoreError) -> String? {
        lock.lock()
        defer { lock.unlock() }
        let copy = path + ".recreating"
        var aside: String?
        do {
            // A replacement is moved aside first: with another file at its path, SQLite finds the open database
            // malformed (the path is what it checks), while with none it reads it whole.
            if FileIdentity(path: path) != nil {
                let name = "\(path).replaced-\(Int64(instant.timeIntervalSince1970))"
                try FileManager.default.moveItem(atPath: path, toPath: name)
                aside = name
            }
            try? FileManager.default.removeItem(atPath: copy)
            try state.pool.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [copy]) }
            // The old connection is closed before the new file opens: closing checkpoints into the old file and
            // deletes `-wal` by name, which must not be the new file's.
            try state.pool.close()
        } catch {
            try? FileManager.default.removeItem(atPath: copy)
            throw StationDatabase.storeError(path: path, error)
        }
        // The old file's `-wal` and `-shm` are found by name: left beside the copy, SQLite would take the old WAL's
        // pages as the new file's (seen: the library read empty, then "malformed"). Everything in them is in the
        // copy already.
        for suffix in ["-wal", "-shm"] { unlink(path + suffix) }
        guard rename(copy, path) == 0 else {
            let reason = String(cString: strerror(errno))
            // Writes go on into the copy, so nothing is lost; the next check finds the path still empty.
            if let pool = try? StationDatabase.openPool(copy) { state = (pool, FileIdentity(path: copy)) }
            throw .disk(path: path, message: reason)
        }
        StationDatabase.syncFolder(of: path)
        do {
            state = (try StationDatabase.openPool(path), FileIdentity(path: path))
        } catch {
            state.file = FileIdentity(path: path)
            reopenNeeded = true
            throw .disk(path: path, message: StationDatabase.message(error))
        }
        return aside
    }

    /// The rename is durable only once the folder is.
    static func syncFolder(of path: String) {
        let folder = Glibc.open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY)
        guard folder >= 0 else { return }
        fsync(folder)
        close(folder)
    }

    /// `PRAGMA quick_check`: "ok", or what SQLite found damaged (first lines). Reads the whole file: seconds on a
    /// large log, so callers run it off the playout path.
    public func quickCheck() throws(StoreError) -> [String] {
        try read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(20)") }
    }
}

/// How a command opens the station's database.
public enum DatabaseAccess: Sendable {
    /// Created when missing, migrated: the daemon, and commands that add to the library (`segment add`, `fetch`).
    case create
    /// Written and migrated, never created: a missing file is an error (``StoreError/missing(path:)``).
    case write
    /// Read only, without migrations or write access, so a command that only reads never contends with the
    /// daemon's writes; a missing file is an error.
    case read
    /// As ``read``, but a missing file reads as an empty library and log (setup commands, before any import).
    case readOrEmpty
}
