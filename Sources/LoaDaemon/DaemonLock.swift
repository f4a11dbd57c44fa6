import Foundation
import LoaCore
import LoaStore

/// One daemon per database: an exclusive `flock` on `<database>.lock`, held for the process's lifetime.
///
/// The lock belongs to the database file, not to the name `loa.toml` gives it: the lock file sits beside the
/// database's real path (every symlink resolved, the folder's included), and the database file itself is
/// `flock`ed too, so a second name made with `ln` (hard link) is caught as well. SQLite's own locks are `fcntl`
/// locks, which `flock` does not touch on a local file system.
///
/// The kernel drops the lock when the process dies, however it dies, so a SIGKILLed daemon never leaves a
/// stale lock behind; the file itself stays (removing it would race with a daemon about to lock it) and
/// only says who held it last. The descriptor is close-on-exec, so a child process never inherits the lock.
public final class DaemonLock: @unchecked Sendable {
    /// What the holder writes into the lock file, so a refused daemon can name it.
    public struct Holder: Sendable, Equatable, CustomStringConvertible {
        public var pid: Int32
        /// RFC 3339 station time the holder started.
        public var since: String?
        public var host: String?

        public init(pid: Int32, since: String?, host: String?) {
            self.pid = pid
            self.since = since
            self.host = host
        }

        /// `pid 1234 trên máy loa-xa, chạy từ 2026-11-12T17:00:00.000+07:00`
        public var description: String {
            "pid \(pid)" + (host.map { " trên máy \($0)" } ?? "") + (since.map { ", chạy từ \($0)" } ?? "")
        }

        /// `pid=…`, `since=…`, `host=…` lines: readable with `cat` by a technician over SSH.
        var text: String {
            "pid=\(pid)\n" + (since.map { "since=\($0)\n" } ?? "") + (host.map { "host=\($0)\n" } ?? "")
        }

        init?(text: String) {
            var fields: [Substring: Substring] = [:]
            for line in text.split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                fields[line[..<equals]] = line[line.index(after: equals)...]
            }
            guard let pid = fields["pid"].flatMap({ Int32($0) }) else { return nil }
            self.init(pid: pid, since: fields["since"].map(String.init), host: fields["host"].map(String.init))
        }
    }

    public let path: String
    private let lock = NSLock()
    private var descriptor: Int32?
    /// The database's real path while its own file is not held yet (``holdDatabaseFile()``).
    private var unheldDatabase: String?

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Takes the lock of the database at `database`, whatever name it is reached by: `<real path>.lock`, and the
    /// database file itself when it exists (``holdDatabaseFile()`` takes it once the database is made). Throws
    /// `.alreadyRunning` naming the holder; never waits.
    public static func acquire(database: String, startedAt: Date, calendar: StationCalendar) throws(DaemonError) -> DaemonLock {
        let real = StationDatabase.realPath(database)
        let held = try acquire(path: real + ".lock", startedAt: startedAt, calendar: calendar)
        held.lock.withLock { held.unheldDatabase = real }
        do { try held.holdDatabaseFile() } catch {
            held.release()
            throw error
        }
        return held
    }

    /// `flock`s the database file itself, when it exists and is not held yet: another daemon reaching it by a hard
    /// link holds that lock. Call it again once the database has been made.
    public func holdDatabaseFile() throws(DaemonError) {
        guard let real = lock.withLock({ unheldDatabase }) else { return }
        let fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        // A database not made yet has no other name another daemon could be holding it by.
        guard fd >= 0 else { return }
        // This descriptor is never closed, not even when the lock is refused: closing any descriptor of the database
        // file drops every POSIX lock this process holds on it, SQLite's own included, while a connection may be open.
        // The kernel closes it, and drops the `flock`, when the process ends.
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            guard code == EWOULDBLOCK else { throw .lockUnavailable(lockFile: real, reason: DaemonError.words(errno: code)) }
            throw .alreadyRunning(lockFile: real, holder: nil)
        }
        lock.withLock { unheldDatabase = nil }
    }

    /// Takes the lock at `path` or throws `.alreadyRunning` naming its holder; never waits.
    /// `startedAt` is written into the file in station time, with this process's pid and host name.
    public static func acquire(path: String, startedAt: Date, calendar: StationCalendar) throws(DaemonError) -> DaemonLock {
        // No O_TRUNC: a daemon that loses the race must not wipe what the holder wrote.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .lockUnavailable(lockFile: path, reason: DaemonError.words(errno: errno)) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            defer { close(fd) }
            guard code == EWOULDBLOCK else { throw .lockUnavailable(lockFile: path, reason: DaemonError.words(errno: code)) }
            throw .alreadyRunning(lockFile: path, holder: holder(readingFrom: fd))
        }
        let me = Holder(pid: getpid(), since: calendar.rfc3339(startedAt), host: hostName())
        let bytes = Array(me.text.utf8)
        // Best effort: the lock holds even if the note cannot be written (a full disk).
        if ftruncate(fd, 0) == 0 { _ = pwrite(fd, bytes, bytes.count, 0) }
        return DaemonLock(path: path, descriptor: fd)
    }

    /// Who wrote the lock file last; nil when it is missing or empty. Says nothing about whether it is held.
    public static func lastHolder(path: String) -> Holder? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Holder(text: text)
    }

    /// Releases the lock file's lock now rather than at exit (tests, an orderly shutdown); the database file's stays
    /// until the process ends (see ``holdDatabaseFile()``). Safe to call twice.
    public func release() {
        let fd: Int32? = lock.withLock {
            defer { descriptor = nil }
            return descriptor
        }
        if let fd { close(fd) }
    }

    deinit { release() }

    private static func holder(readingFrom fd: Int32) -> Holder? {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return Holder(text: String(decoding: buffer[..<count], as: UTF8.self))
    }

    private static func hostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? nil : name
    }
}
